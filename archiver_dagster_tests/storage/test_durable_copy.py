"""Durable copies between filesystems: the kernel copy falls back where it cannot cross."""

import errno
import os
from pathlib import Path

import pytest

from archiver_dagster.storage import durable_copy
from archiver_dagster.storage.durable_copy import KernelCopy, copy_file_durably


def test_copy_onto_another_filesystem_is_identical(tmp_path: Path, tmpfs: Path) -> None:
    source = tmp_path / "block.tar"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    dest = tmpfs / "datasets" / "block.tar"
    dest.parent.mkdir()

    assert copy_file_durably(source, dest) == source.stat().st_size

    assert dest.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["block.tar"]


def test_a_refused_copy_file_range_is_replaced_by_sendfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def cross_device(src: int, dst: int, count: int) -> int:
        calls.append(count)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(durable_copy.os, "copy_file_range", cross_device)
    monkeypatch.setattr(durable_copy, "COPY_CHUNK_BYTES", 64 * 1024)
    source = tmp_path / "a.tar"
    source.write_bytes(os.urandom(200 * 1024))
    dest = tmp_path / "b.tar"

    assert copy_file_durably(source, dest) == 200 * 1024

    assert dest.read_bytes() == source.read_bytes()
    assert len(calls) == 1  # asked once; every later step goes straight to sendfile


def test_other_copy_errors_are_not_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(src: int, dst: int, count: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable_copy.os, "copy_file_range", no_space)
    source = tmp_path / "a"
    source.write_bytes(b"x" * 10)
    with (
        source.open("rb") as src,
        (tmp_path / "b").open("wb") as dst,
        pytest.raises(OSError) as raised,
    ):
        KernelCopy().step(src.fileno(), dst.fileno(), 10)
    assert raised.value.errno == errno.ENOSPC
