"""Single-pass digest and verification of a tar stream; nothing is ever extracted to disk."""

import hashlib
import tarfile
from collections.abc import Sequence
from typing import BinaryIO

import pydantic

from archiver_dagster.packing.checksums import new_hasher
from archiver_dagster.packing.forward_reader import ForwardOnlyReader
from archiver_dagster.packing.paths import UnsafePathError, safe_relative_path
from archiver_dagster.packing.pipeline import TarSink, fill


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


class CorruptTarError(ValueError):
    """A tar stream that `tarfile` cannot parse (bad header, truncated data)."""


class ChecksumMismatchError(ValueError):
    """A tar that does not match what was expected; `.problems` lists every difference."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"tar verification failed ({len(problems)} problems): " + "; ".join(problems)
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


class _Tap:
    """The byte source `tarfile` reads headers from: every byte also goes to the tar sink."""

    def __init__(self, stream: BinaryIO, sink: TarSink) -> None:
        self._stream = stream
        self._sink = sink

    def read(self, size: int = -1, /) -> bytes:
        """Reads up to `size` bytes and queues them for the tar checksum."""
        data = self._stream.read(size)
        self._sink.update(data)
        return data


class _TarReader(ForwardOnlyReader):
    """The tar stream for `tarfile`; member data is read here instead, into the sink's buffers."""

    def __init__(self, stream: BinaryIO, sink: TarSink) -> None:
        super().__init__(_Tap(stream, sink))
        self._stream = stream
        self._sink = sink

    def digest_data(self, size: int | None, hasher: "hashlib._Hash | None") -> int:
        """Reads `size` bytes (None: to the end) for the tar checksum and `hasher`; returns n."""
        done = 0
        while size is None or done < size:
            buffer = self._sink.acquire()
            view = memoryview(buffer)
            want = len(view) if size is None else min(size - done, len(view))
            n = fill(self._stream, view[:want])
            if not n:
                self._sink.release(buffer)
                break
            if hasher is not None:
                hasher.update(view[:n])
            self._sink.submit(buffer, n)
            self._pos += n
            done += n
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


def _scan(stream: BinaryIO, algorithm: str, bufsize: int) -> tuple[TarDigest, Exception | None]:
    """Reads the whole stream once; returns the digest and the parse error that stopped it.

    This thread parses headers and hashes member data; the tar checksum of every byte runs on
    the sink's thread, over the same buffers.
    """
    if bufsize <= 0:
        raise ValueError(f"bufsize must be positive, got {bufsize}")
    members: list[ExpectedMember] = []
    error: Exception | None = None
    with TarSink(algorithm, bufsize) as sink:
        reader = _TarReader(stream, sink)
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
        checksum = sink.finish()
    digest = TarDigest(checksum=checksum, packed_size=sink.bytes_submitted, members=members)
    return digest, error


def digest_tar(stream: BinaryIO, algorithm: str, bufsize: int = 1 << 20) -> TarDigest:
    """Hashes every regular member and the whole tar (every byte to EOF) in one sequential read.

    The stream is read forwards only, through `tarfile`'s "r:" mode over a `ForwardOnlyReader`
    (the "r|" stream mode copies its whole buffer on every small read, so tars of small files
    slow down in proportion to the buffer size). Directories are accepted but not listed.

    Raises:
        UnsafeMemberError: a link, special file or unsafe name, before any of its data is read.
        CorruptTarError: the stream is not a readable uncompressed tar.
        ValueError: unsupported algorithm or non-positive bufsize.
    """
    new_hasher(algorithm)
    digest, error = _scan(stream, algorithm, bufsize)
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
    bufsize: int = 1 << 20,
) -> TarDigest:
    """Digests the tar in one read and compares it with what was expected; returns the digest.

    `expected_checksum` None checks the members only (a tar archived before its whole-tar
    checksum was recorded; SciCat's datablock DTO has no field for it).

    Raises:
        ChecksumMismatchError: listing all problems (checksums, sizes, missing, unexpected or
            duplicate members, unreadable tar).
        UnsafeMemberError: a link, special file or unsafe name.
        ValueError: unsupported algorithm or non-positive bufsize.
    """
    new_hasher(algorithm)
    digest, error = _scan(stream, algorithm, bufsize)
    problems = _compare(digest, expected_checksum, expected_members)
    if error is not None:
        problems.insert(0, f"unreadable tar after {len(digest.members)} members: {error}")
    if problems:
        raise ChecksumMismatchError(problems)
    return digest
