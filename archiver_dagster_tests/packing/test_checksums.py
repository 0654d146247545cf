import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.packing.checksums import (
    SUPPORTED_ALGORITHMS,
    HashingReader,
    HashingWriter,
    file_checksum,
    new_hasher,
)


class _ReadOnly:
    """A source with only `read`, returning at most `chunk` bytes per call (like a socket)."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self._data = io.BytesIO(data)
        self._chunk = chunk

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._chunk if size < 0 else min(size, self._chunk))


class _Trickle(io.RawIOBase):
    """A raw stream whose writes accept at most `chunk` bytes."""

    def __init__(self, chunk: int) -> None:
        super().__init__()
        self.data = bytearray()
        self._chunk = chunk

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        part = bytes(memoryview(b)[: self._chunk])
        self.data += part
        return len(part)


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
def test_new_hasher_matches_hashlib(algorithm: str) -> None:
    hasher = new_hasher(algorithm)
    hasher.update(b"archive me")
    assert hasher.hexdigest() == hashlib.new(algorithm, b"archive me").hexdigest()


@pytest.mark.parametrize("name", ["sha3_256", "SHA256", "crc32", ""])
def test_new_hasher_rejects_unsupported(name: str) -> None:
    with pytest.raises(ValueError, match=f"unsupported checksum algorithm '{name}'; choose one of"):
        new_hasher(name)


@given(
    data=st.binary(max_size=5000),
    chunk=st.integers(1, 6000),
    algorithm=st.sampled_from(SUPPORTED_ALGORITHMS),
)
def test_hashing_reader_readinto_hashes_every_byte(data: bytes, chunk: int, algorithm: str) -> None:
    reader = HashingReader(io.BytesIO(data), algorithm)
    buf = bytearray(chunk)
    out = bytearray()
    while n := reader.readinto(buf):
        out += buf[:n]
    assert bytes(out) == data
    assert reader.bytes_read == len(data)
    assert reader.hexdigest() == hashlib.new(algorithm, data).hexdigest()


@given(data=st.binary(max_size=3000), chunk=st.integers(1, 700), size=st.integers(1, 4000))
def test_hashing_reader_over_read_only_short_reads(data: bytes, chunk: int, size: int) -> None:
    reader = HashingReader(_ReadOnly(data, chunk), "sha256")  # type: ignore[arg-type]
    parts = []
    buf = bytearray(size)
    while n := reader.readinto(buf):
        parts.append(bytes(buf[:n]))
    assert b"".join(parts) == data
    assert reader.hexdigest() == hashlib.sha256(data).hexdigest()


def test_hashing_reader_read_and_readall() -> None:
    reader = HashingReader(io.BytesIO(b"0123456789"), "md5")
    assert reader.read(3) == b"012"
    assert reader.readall() == b"3456789"
    assert reader.read(5) == b""
    assert (reader.bytes_read, reader.hexdigest()) == (10, hashlib.md5(b"0123456789").hexdigest())


def test_hashing_reader_is_a_readable_stream_for_buffered_io() -> None:
    data = bytes(range(256)) * 100
    buffered = io.BufferedReader(HashingReader(io.BytesIO(data), "sha1"), buffer_size=1000)
    hashing = buffered.raw
    assert isinstance(hashing, HashingReader)
    assert buffered.read() == data
    assert hashing.hexdigest() == hashlib.sha1(data).hexdigest()


@given(parts=st.lists(st.binary(max_size=2000), max_size=10), chunk=st.integers(1, 3000))
def test_hashing_writer_writes_everything_despite_short_writes(
    parts: list[bytes], chunk: int
) -> None:
    raw = _Trickle(chunk)
    writer = HashingWriter(raw, "blake2b")  # type: ignore[arg-type]
    for part in parts:
        assert writer.write(part) == len(part)
    joined = b"".join(parts)
    assert bytes(raw.data) == joined
    assert writer.bytes_written == len(joined)
    assert writer.hexdigest() == hashlib.blake2b(joined).hexdigest()


def test_hashing_writer_accepts_memoryview_and_flushes(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with target.open("wb") as fh:
        writer = HashingWriter(fh, "sha512")
        writer.write(memoryview(bytearray(b"abcdef"))[1:4])
        writer.flush()
        assert target.read_bytes() == b"bcd"
    assert writer.hexdigest() == hashlib.sha512(b"bcd").hexdigest()


def test_hashing_writer_does_not_close_wrapped_stream() -> None:
    raw = io.BytesIO()
    writer = HashingWriter(raw, "md5")
    writer.write(b"x")
    writer.close()
    assert not raw.closed
    assert raw.getvalue() == b"x"


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 10_001])
def test_file_checksum(tmp_path: Path, algorithm: str, size: int) -> None:
    data = bytes(i * 7 % 251 for i in range(size))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_checksum(path, algorithm, bufsize=4096) == hashlib.new(algorithm, data).hexdigest()


def test_file_checksum_rejects_non_positive_bufsize(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    with pytest.raises(ValueError, match="bufsize must be positive"):
        file_checksum(path, "md5", bufsize=0)
