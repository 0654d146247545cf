"""Single-pass writer of uncompressed PAX tar files with per-member and whole-tar checksums."""

import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import pydantic

from archiver_dagster.packing.checksums import TAR_CHECKSUM_ALGORITHM, new_hasher
from archiver_dagster.packing.pipeline import TarSink, Writable, fill
from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.source_checksums import RegisteredChecksum, SourceChecksumError
from archiver_dagster.packing.verify import ExpectedMember

_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
_END_OF_ARCHIVE = bytes(2 * tarfile.BLOCKSIZE)
DEFAULT_BUFSIZE = 1 << 20


class PackedMember(pydantic.BaseModel):
    """One member as written into a tar, with the checksum of its data."""

    path: str
    size: int
    checksum: str
    mtime: float
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str


class StreamedTar(pydantic.BaseModel):
    """A tar written by `stream_tar`, with its own checksum and its members'."""

    packed_size: int
    unpacked_size: int
    checksum: str = pydantic.Field(description="Of the whole tar, in `tar_algorithm`.")
    algorithm: str = pydantic.Field(description="Of the members' checksums (SciCat's chkAlg).")
    tar_algorithm: str
    members: list[PackedMember]

    def expected_members(self) -> list[ExpectedMember]:
        """Returns what `verify_tar` should find in this tar."""
        return [ExpectedMember(path=m.path, size=m.size, checksum=m.checksum) for m in self.members]


class PackedTar(StreamedTar):
    """A tar file written by `write_tar`."""

    path: Path


class SourceSizeError(ValueError):
    """A source stream yielded fewer or more bytes than its `FileEntry.size`."""


def tar_info(entry: FileEntry) -> tarfile.TarInfo:
    """Returns the regular-file header `write_tar` writes for `entry`.

    An integral mtime is stored as an integer (ustar field only); a fractional one keeps its full
    precision in a PAX "mtime" record, as `tarfile` does for float mtimes.
    """
    info = tarfile.TarInfo(entry.path)
    info.type = tarfile.REGTYPE
    info.size = entry.size
    info.mtime = int(entry.mtime) if entry.mtime.is_integer() else entry.mtime
    info.mode = entry.mode
    info.uid = entry.uid
    info.gid = entry.gid
    info.uname = entry.uname
    info.gname = entry.gname
    return info


def tar_member_header(entry: FileEntry) -> bytes:
    """Returns the header blocks (PAX extended header included, if any) for `entry`."""
    return tar_info(entry).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def tar_member_header_overhead(entry: FileEntry) -> int:
    """Returns the bytes a member adds to a tar beyond its data: header blocks plus padding."""
    return len(tar_member_header(entry)) + (-entry.size % _BLOCK)


def packed_tar_size(entries: Iterable[FileEntry]) -> int:
    """Returns the exact size of the tar `write_tar` produces for `entries`."""
    size = sum(entry.size + tar_member_header_overhead(entry) for entry in entries)
    size += len(_END_OF_ARCHIVE)
    return size + (-size % _RECORD)


def _copy_member(
    entry: FileEntry, source: BinaryIO, sink: TarSink, algorithm: str, also: str | None = None
) -> tuple[str, str | None]:
    """Copies exactly `entry.size` bytes of `source` plus block padding; returns their checksum.

    This thread reads and computes the member checksum; the sink's thread hashes the tar and
    writes it, so the two checksums run on two cores. With `also`, the same bytes are hashed
    in that algorithm too (second value; None without `also`).
    """
    hasher = new_hasher(algorithm)
    other = new_hasher(also) if also is not None else None
    remaining = entry.size
    while remaining:
        buffer = sink.acquire()
        view = memoryview(buffer)
        n = fill(source, view[: min(remaining, len(view))])
        if not n:
            sink.release(buffer)
            copied = entry.size - remaining
            raise SourceSizeError(
                f"source for {entry.path!r} ended after {copied} of {entry.size} bytes"
            )
        hasher.update(view[:n])
        if other is not None:
            other.update(view[:n])
        sink.submit(buffer, n)
        remaining -= n
    if fill(source, memoryview(bytearray(1))):
        raise SourceSizeError(f"source for {entry.path!r} is longer than {entry.size} bytes")
    if padding := -entry.size % _BLOCK:
        sink.update(bytes(padding))
    return hasher.hexdigest(), (other.hexdigest() if other is not None else None)


def write_tar(
    dest: Path,
    members: Iterable[tuple[FileEntry, BinaryIO]],
    algorithm: str,
    bufsize: int = DEFAULT_BUFSIZE,
    registered: Mapping[str, RegisteredChecksum] | None = None,
    tar_algorithm: str = TAR_CHECKSUM_ALGORITHM,
) -> PackedTar:
    """Streams sources into a tar file at `dest` (`stream_tar`), written as "<dest>.partial".

    The partial file is renamed to `dest` when complete and removed on any error. Nothing is
    fsynced.
    """
    partial = dest.with_name(dest.name + ".partial")
    try:
        with partial.open("wb", buffering=0) as fh:
            streamed = stream_tar(fh, members, algorithm, bufsize, registered, tar_algorithm)
        partial.replace(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return PackedTar(path=dest, **dict(streamed))


def stream_tar(
    out: Writable,
    members: Iterable[tuple[FileEntry, BinaryIO]],
    algorithm: str,
    bufsize: int = DEFAULT_BUFSIZE,
    registered: Mapping[str, RegisteredChecksum] | None = None,
    tar_algorithm: str = TAR_CHECKSUM_ALGORITHM,
) -> StreamedTar:
    """Streams sources into an uncompressed PAX tar written to `out` in one pass, hashing.

    Members are written in iteration order; each source must yield exactly `entry.size` bytes and
    is not closed here. Memory: a ring of `DEFAULT_BUFFERS` buffers of `bufsize` bytes. On an
    error, `out` holds part of a tar: the caller discards it.

    Members are hashed in `algorithm`, the whole tar in `tar_algorithm`. Members with a
    checksum in `registered` (by path) are compared with it, from the same read
    (hashed a second time only where its algorithm is not `algorithm`). Every member is packed
    first, so that the error names all that differ.

    Raises:
        SourceSizeError: a source was shorter or longer than its entry's size.
        SourceChecksumError: members differ from their registered checksums.
        ValueError: unsupported algorithm, non-positive bufsize or a path given twice.
    """
    new_hasher(algorithm), new_hasher(tar_algorithm)
    if bufsize <= 0:
        raise ValueError(f"bufsize must be positive, got {bufsize}")
    registered = registered or {}
    packed: list[PackedMember] = []
    seen: set[str] = set()
    mismatches: list[tuple[str, str]] = []
    with TarSink(tar_algorithm, bufsize, out=out) as sink:
        for entry, source in members:
            if entry.path in seen:
                raise ValueError(f"path {entry.path!r} given twice")
            seen.add(entry.path)
            sink.update(tar_member_header(entry))
            expected = registered.get(entry.path)
            also = expected.algorithm if expected and expected.algorithm != algorithm else None
            checksum, other = _copy_member(entry, source, sink, algorithm, also)
            if expected is not None:
                actual = other if also is not None else checksum
                if actual != expected.value:
                    mismatches.append((entry.path, expected.algorithm))
            packed.append(PackedMember(checksum=checksum, **entry.model_dump()))
        if mismatches:
            checked = sum(1 for member in packed if member.path in registered)
            raise SourceChecksumError(mismatches, checked)
        sink.update(_END_OF_ARCHIVE)
        sink.update(bytes(-sink.bytes_submitted % _RECORD))
        checksum = sink.finish()
    return StreamedTar(
        packed_size=sink.bytes_submitted,
        unpacked_size=sum(m.size for m in packed),
        checksum=checksum,
        algorithm=algorithm,
        tar_algorithm=tar_algorithm,
        members=packed,
    )
