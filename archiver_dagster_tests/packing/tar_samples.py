"""Shared helpers for packing tests: sample entries, reference tars and stream doubles."""

import io
import random
import tarfile
from collections.abc import Iterator
from pathlib import Path

from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.tar_stream import PackedTar, write_tar


def content(seed: int, size: int) -> bytes:
    """Returns reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def reference_tar(files: list[tuple[FileEntry, bytes]]) -> bytes:
    """Builds the tar the straightforward way, with plain `tarfile`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry, data in files:
            info = tarfile.TarInfo(entry.path)
            info.size = entry.size
            info.mtime = int(entry.mtime) if entry.mtime.is_integer() else entry.mtime
            info.mode = entry.mode
            info.uid, info.gid = entry.uid, entry.gid
            info.uname, info.gname = entry.uname, entry.gname
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sources(files: list[tuple[FileEntry, bytes]]) -> Iterator[tuple[FileEntry, io.BytesIO]]:
    """Yields each entry with a fresh in-memory source."""
    for entry, data in files:
        yield entry, io.BytesIO(data)


def sample_files() -> list[tuple[FileEntry, bytes]]:
    """A few files across folders, block boundaries and unicode names."""
    specs = [
        ("raw/a.bin", 1000),
        ("raw/empty.dat", 0),
        ("données/μ-scope/ファイル.bin", 512),
        ("deep/" * 30 + "long-name.h5", 1025),
        ("z.txt", 3),
    ]
    return [
        (FileEntry(path=path, size=size, mtime=1_700_000_000.0 + i), content(i, size))
        for i, (path, size) in enumerate(specs)
    ]


def write_sample(
    dest: Path, algorithm: str = "sha256", tar_algorithm: str | None = None
) -> tuple[PackedTar, bytes]:
    """Writes the sample tar; returns its description and its bytes.

    The whole tar is hashed in `tar_algorithm`, by default in the members' `algorithm`, as tars
    were before the whole-tar checksum had an algorithm of its own (what `verify_tar` assumes
    when it is given none).
    """
    packed = write_tar(
        dest, sources(sample_files()), algorithm, tar_algorithm=tar_algorithm or algorithm
    )
    return packed, dest.read_bytes()


class ShortReads(io.RawIOBase):
    """A non-seekable source handing out at most `chunk` bytes per read, like a pipe or socket."""

    def __init__(self, data: bytes, chunk: int) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self._chunk = chunk

    def readable(self) -> bool:
        """Returns True."""
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        """Reads at most `chunk` bytes into `b`."""
        data = self._data.read(min(len(b), self._chunk))
        b[: len(data)] = data
        return len(data)
