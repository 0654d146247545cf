import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.packing.forward_reader import ForwardOnlyReader
from archiver_dagster_tests.packing.tar_samples import ShortReads

_DATA = bytes(range(256)) * 300


@given(chunk=st.integers(1, 2000), sizes=st.lists(st.integers(0, 5000), max_size=30))
def test_reads_are_full_length_despite_short_source_reads(chunk: int, sizes: list[int]) -> None:
    reader = ForwardOnlyReader(ShortReads(_DATA, chunk))
    position = 0
    for size in sizes:
        data = reader.read(size)
        assert data == _DATA[position : position + size]
        position += len(data)
        assert reader.tell() == position
    assert reader.read() == _DATA[position:]
    assert reader.tell() == len(_DATA)


def test_seek_forwards_skips_and_seek_in_place_is_a_no_op() -> None:
    reader = ForwardOnlyReader(io.BytesIO(_DATA))
    assert reader.seekable()
    assert reader.seek(70_000) == 70_000
    assert reader.seek(70_000) == 70_000
    assert reader.seek(10, os.SEEK_CUR) == 70_010
    assert reader.read(3) == _DATA[70_010:70_013]


def test_seek_past_end_stops_at_end() -> None:
    reader = ForwardOnlyReader(io.BytesIO(b"abc"))
    assert reader.seek(100) == 3
    assert reader.read(1) == b""


def test_backward_and_end_relative_seeks_refused() -> None:
    reader = ForwardOnlyReader(io.BytesIO(_DATA))
    reader.read(10)
    with pytest.raises(io.UnsupportedOperation, match="cannot seek backwards"):
        reader.seek(5)
    with pytest.raises(io.UnsupportedOperation, match="from its end"):
        reader.seek(0, os.SEEK_END)
    assert reader.tell() == 10


def test_readinto_fills_buffer() -> None:
    reader = ForwardOnlyReader(ShortReads(b"0123456789", 3))
    buf = bytearray(8)
    assert reader.readinto(buf) == 8
    assert bytes(buf) == b"01234567"
    assert reader.readinto(buf) == 2
    assert buf[:2] == b"89"
