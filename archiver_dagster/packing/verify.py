"""Single-pass digest and verification of a tar stream; nothing is ever extracted to disk."""

import mmap
import queue
import tarfile
import threading
from collections.abc import Sequence
from typing import BinaryIO

import pydantic

from archiver_dagster.packing.checksums import Hasher, new_hasher
from archiver_dagster.packing.forward_reader import ForwardOnlyReader
from archiver_dagster.packing.paths import UnsafePathError, safe_relative_path
from archiver_dagster.packing.pipeline import TarSink, fill

# Read in 2 MiB chunks, 6 in flight (reading, parsing, tar-hashing, queued): 12 MiB per tar.
# A chunk then fits a core's L2 cache while both hashes read it; larger chunks or more of them
# verified no faster (docs/performance.md, decision 26).
READ_BUFSIZE = 2 << 20
READ_BUFFERS = 6


class ExpectedMember(pydantic.BaseModel):
    """A regular-file member a tar should contain."""

    path: str
    size: int
    checksum: str

    @pydantic.field_validator("path")
    @classmethod
    def _validate_path(cls, value: str) -> str:
        """Rejects unsafe paths and normalises the rest."""
        return safe_relative_path(value)


class TarDigest(pydantic.BaseModel):
    """What one read pass over a tar found: its checksum, size and regular-file members."""

    checksum: str
    packed_size: int
    members: list[ExpectedMember]


class UnsafeMemberError(ValueError):
    """A tar member that is a link or special file, or whose name is not a safe relative path."""


SHOWN_PROBLEMS = 5  # in the message; `.problems` keeps them all


class CorruptTarError(ValueError):
    """A tar stream that `tarfile` cannot parse (bad header, truncated data)."""


class ChecksumMismatchError(ValueError):
    """A tar that does not match what was expected; `.problems` lists every difference."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        super().__init__(
            f"tar verification failed ({len(problems)} problems): {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )
        self.problems = problems


def _check_member(info: tarfile.TarInfo) -> str | None:
    """Returns the safe name of a regular file, None for a directory; raises if unsafe."""
    if info.issym() or info.islnk():
        kind = "symlink" if info.issym() else "hardlink"
        raise UnsafeMemberError(f"member {info.name!r} is a {kind} to {info.linkname!r}")
    if not (info.isreg() or info.isdir()):
        kinds = {tarfile.CHRTYPE: "character device", tarfile.BLKTYPE: "block device"}
        kind = kinds.get(info.type, "fifo" if info.isfifo() else f"type {info.type!r}")
        raise UnsafeMemberError(
            f"member {info.name!r} is a {kind}; only files and directories allowed"
        )
    if info.isdir() and info.name in (".", "./"):
        return None
    try:
        name = safe_relative_path(info.name)
    except UnsafePathError as exc:
        raise UnsafeMemberError(f"member {info.name!r}: {exc.reason}") from exc
    return name if info.isreg() else None


class _ChunkReader:
    """Reads the stream ahead, whole sink buffers at a time, on its own thread; serves it in order.

    Three stages run at once on different buffers: this reader's thread fills a buffer (with
    `O_DIRECT` the device writes straight into it: the buffers are page-aligned), the caller parses
    headers and hashes member data from it without copying, and once the caller is past it the
    buffer goes to the sink, whose thread adds it to the tar checksum and frees it for the next
    read. Every byte of the stream thus reaches the tar checksum exactly once, in order.
    """

    def __init__(self, stream: BinaryIO, sink: TarSink) -> None:
        self._stream = stream
        self._sink = sink
        self._ready: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._chunk: mmap.mmap | None = None
        self._length = 0
        self._view = memoryview(b"")  # the part of the current chunk not yet consumed
        self._ended = False
        self._thread = threading.Thread(target=self._read_ahead, name="tar-read", daemon=True)
        self._thread.start()

    def _read_ahead(self) -> None:
        try:
            while True:
                buffer = self._sink.acquire()
                if self._stop.is_set():
                    self._sink.release(buffer)
                    return
                count = fill(self._stream, memoryview(buffer))
                self._ready.put((buffer, count))
                if count < len(buffer):
                    return
        except BaseException as error:
            self._ready.put(error)

    def _advance(self) -> bool:
        """Hands the current chunk to the sink and takes the next; False at the end."""
        if self._chunk is not None:
            self._view = memoryview(b"")
            self._sink.submit(self._chunk, self._length)
            self._chunk = None
        if self._ended:
            return False
        item = self._ready.get()
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        buffer, count = item
        self._ended = count < len(buffer)
        if not count:
            self._sink.release(buffer)
            return False
        self._chunk, self._length = buffer, count
        self._view = memoryview(buffer)[:count]
        return True

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (all that is left when negative); b"" only at the end."""
        if size < 0:
            parts = []
            while self._view or self._advance():
                parts.append(bytes(self._view))
                self._view = self._view[len(self._view) :]
            return b"".join(parts)
        if not self._view and not self._advance():
            return b""
        data = bytes(self._view[:size])
        self._view = self._view[len(data) :]
        return data

    def consume(self, size: int | None, hasher: "Hasher | None") -> int:
        """Passes `size` bytes (None: to the end) to `hasher` without copying; returns the count."""
        done = 0
        while size is None or done < size:
            if not self._view and not self._advance():
                break
            take = len(self._view) if size is None else min(size - done, len(self._view))
            if hasher is not None:
                hasher.update(self._view[:take])
            self._view = self._view[take:]
            done += take
        return done

    def close(self) -> None:
        """Stops reading ahead and returns every buffer still held to the sink."""
        self._stop.set()
        self._view = memoryview(b"")
        if self._chunk is not None:
            self._sink.release(self._chunk)
            self._chunk = None
        while self._thread.is_alive():
            self._release_ready()
            self._thread.join(timeout=0.01)
        self._release_ready()

    def _release_ready(self) -> None:
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                return
            if not isinstance(item, BaseException):
                self._sink.release(item[0])


class _TarReader(ForwardOnlyReader):
    """The tar stream for `tarfile`; member data is hashed straight from the chunks instead."""

    def __init__(self, chunks: _ChunkReader) -> None:
        super().__init__(chunks)
        self._chunks = chunks

    def digest_data(self, size: int | None, hasher: "Hasher | None") -> int:
        """Consumes `size` bytes (None: to the end), hashed by `hasher`; returns the count."""
        done = self._chunks.consume(size, hasher)
        self._pos += done
        return done


def _digest_member(
    reader: _TarReader, info: tarfile.TarInfo, name: str, algorithm: str
) -> ExpectedMember:
    """Hashes one regular member's data, read sequentially from the tar stream."""
    hasher = new_hasher(algorithm)
    if reader.tell() != info.offset_data:  # pragma: no cover - tarfile stops at the data
        raise CorruptTarError(f"member {name!r}: data not at offset {info.offset_data}")
    size = reader.digest_data(info.size, hasher)
    if size != info.size:
        raise CorruptTarError(f"unexpected end of data in member {name!r}")
    return ExpectedMember(path=name, size=size, checksum=hasher.hexdigest())


def _scan(
    stream: BinaryIO, algorithm: str, bufsize: int, tar_algorithm: str
) -> tuple[TarDigest, Exception | None]:
    """Reads the whole stream once; returns the digest and the parse error that stopped it.

    This thread parses headers and hashes member data; the tar checksum of every byte runs on
    the sink's thread, over the same buffers.
    """
    if bufsize <= 0:
        raise ValueError(f"bufsize must be positive, got {bufsize}")
    members: list[ExpectedMember] = []
    error: Exception | None = None
    with TarSink(tar_algorithm, bufsize, buffers=READ_BUFFERS) as sink:
        chunks = _ChunkReader(stream, sink)
        try:
            reader = _TarReader(chunks)
            try:
                with tarfile.open(fileobj=reader, mode="r:") as tar:
                    while (info := tar.next()) is not None:
                        name = _check_member(info)
                        if name is not None:
                            members.append(_digest_member(reader, info, name, algorithm))
            except UnsafeMemberError:
                raise
            except (tarfile.TarError, ValueError) as exc:  # tarfile leaks ValueErrors on corruption
                error = exc
            reader.digest_data(None, None)  # end-of-archive blocks, record padding, anything after
        finally:
            chunks.close()
        checksum = sink.finish()
    digest = TarDigest(checksum=checksum, packed_size=sink.bytes_submitted, members=members)
    return digest, error


def digest_tar(
    stream: BinaryIO,
    algorithm: str,
    bufsize: int = READ_BUFSIZE,
    tar_algorithm: str | None = None,
) -> TarDigest:
    """Hashes every regular member and the whole tar (every byte to EOF) in one sequential read.

    Members in `algorithm`, the whole tar in `tar_algorithm` (None: `algorithm` too).

    The stream is read forwards only, through `tarfile`'s "r:" mode over a `ForwardOnlyReader`
    (the "r|" stream mode copies its whole buffer on every small read, so tars of small files
    slow down in proportion to the buffer size). Directories are accepted but not listed.

    Raises:
        UnsafeMemberError: a link, special file or unsafe name, before any of its data is read.
        CorruptTarError: the stream is not a readable uncompressed tar.
        ValueError: unsupported algorithm or non-positive bufsize.
    """
    tar_algorithm = tar_algorithm or algorithm
    new_hasher(algorithm), new_hasher(tar_algorithm)
    digest, error = _scan(stream, algorithm, bufsize, tar_algorithm)
    if error is not None:
        raise CorruptTarError(f"unreadable tar after {len(digest.members)} members: {error}")
    return digest


def _compare(
    digest: TarDigest, expected_checksum: str | None, expected_members: Sequence[ExpectedMember]
) -> list[str]:
    """Lists every difference between a digest and what was expected."""
    problems: list[str] = []
    if expected_checksum is not None and digest.checksum != expected_checksum.lower():
        problems.append(f"tar checksum {digest.checksum} != expected {expected_checksum}")
    found: dict[str, ExpectedMember] = {}
    for member in digest.members:
        if member.path in found:
            problems.append(f"duplicate member {member.path}")
        found[member.path] = member
    wanted: set[str] = set()
    for want in expected_members:
        wanted.add(want.path)
        got = found.get(want.path)
        if got is None:
            problems.append(f"missing member {want.path}")
            continue
        if got.size != want.size:
            problems.append(f"member {want.path}: size {got.size} != expected {want.size}")
        if got.checksum != want.checksum.lower():
            problems.append(
                f"member {want.path}: checksum {got.checksum} != expected {want.checksum}"
            )
    problems.extend(f"unexpected member {path}" for path in found if path not in wanted)
    return problems


def verify_tar(
    stream: BinaryIO,
    expected_checksum: str | None,
    expected_members: Sequence[ExpectedMember],
    algorithm: str,
    bufsize: int = READ_BUFSIZE,
    tar_algorithm: str | None = None,
) -> TarDigest:
    """Digests the tar in one read and compares it with what was expected; returns the digest.

    Members are hashed in `algorithm`, the whole tar in `tar_algorithm` (None: `algorithm`,
    as tars archived before the whole-tar checksum had an algorithm of its own).
    `expected_checksum` None checks the members only (a tar archived before its whole-tar
    checksum was recorded; SciCat's datablock DTO has no field for it).

    Raises:
        ChecksumMismatchError: listing all problems (checksums, sizes, missing, unexpected or
            duplicate members, unreadable tar).
        UnsafeMemberError: a link, special file or unsafe name.
        ValueError: unsupported algorithm or non-positive bufsize.
    """
    tar_algorithm = tar_algorithm or algorithm
    new_hasher(algorithm), new_hasher(tar_algorithm)
    digest, error = _scan(stream, algorithm, bufsize, tar_algorithm)
    problems = _compare(digest, expected_checksum, expected_members)
    if error is not None:
        problems.insert(0, f"unreadable tar after {len(digest.members)} members: {error}")
    if problems:
        raise ChecksumMismatchError(problems)
    return digest
