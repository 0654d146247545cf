"""Streaming checksums: hashers, hashing stream wrappers and whole-file digests."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO, Protocol

import xxhash

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import ReadableBuffer, WriteableBuffer

# SciCat's chkAlg: the members' checksums, which SciCat keeps and users can check.
SUPPORTED_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256", "sha512", "blake2b")
# The whole-tar checksum, which only the archiver keeps (decision 70): XXH3 128-bit, a
# non-cryptographic hash at memory speed, against accidental corruption (what it guards).
TAR_CHECKSUM_ALGORITHM = "xxh3_128"
_FAST_ALGORITHMS = {"xxh3_128": xxhash.xxh3_128}
# Algorithms a recorded whole-tar checksum may use: tars archived before decision 70 were
# hashed whole in their members' algorithm (md5 by default).
TAR_ALGORITHMS: tuple[str, ...] = (*SUPPORTED_ALGORITHMS, *_FAST_ALGORITHMS)


class Hasher(Protocol):
    """What the archiver uses of a hash object (hashlib's and xxhash's alike)."""

    @property
    def digest_size(self) -> int:
        """Bytes of the digest."""

    def update(self, data: ReadableBuffer, /) -> None:
        """Hashes `data` after what was hashed so far."""

    def hexdigest(self) -> str:
        """The digest of everything hashed so far, in lower-case hex."""


def new_hasher(algorithm: str) -> Hasher:
    """Returns a fresh hash object for one of `TAR_ALGORITHMS` (`SUPPORTED_ALGORITHMS` and XXH3)."""
    if algorithm in _FAST_ALGORITHMS:
        return _FAST_ALGORITHMS[algorithm]()
    if algorithm not in SUPPORTED_ALGORITHMS:
        choices = ", ".join(TAR_ALGORITHMS)
        raise ValueError(f"unsupported checksum algorithm {algorithm!r}; choose one of {choices}")
    # Checksums guard integrity, not secrets: allowed for md5/sha1 on FIPS systems too.
    return hashlib.new(algorithm, usedforsecurity=False)


def _byte_view(buffer: ReadableBuffer | WriteableBuffer) -> memoryview:
    """Returns a flat unsigned-byte view of any buffer, without copying."""
    view = memoryview(buffer)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class HashingReader(io.RawIOBase):
    """Read-only wrapper that hashes and counts every byte read from `raw`.

    The wrapped stream is not closed when this wrapper is closed; its owner closes it.
    """

    def __init__(self, raw: BinaryIO, algorithm: str) -> None:
        super().__init__()
        self._raw = raw
        self._hasher = new_hasher(algorithm)
        self._readinto = getattr(raw, "readinto", None)
        self.bytes_read = 0

    def readable(self) -> bool:
        """Returns True: this stream can be read."""
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int | None:
        """Reads into `buffer` (straight from the wrapped stream when it can), hashing the data."""
        view = _byte_view(buffer)
        if self._readinto is not None:
            n = self._readinto(view)
            if n is None:
                return None
        else:
            data = self._raw.read(len(view))
            n = len(data)
            view[:n] = data
        if n:
            self._hasher.update(view[:n])
            self.bytes_read += n
        return n

    def read(self, size: int | None = -1, /) -> bytes:
        """Reads up to `size` bytes (all when negative) without an intermediate copy."""
        data = self._raw.read(-1 if size is None else size)
        if data:
            self._hasher.update(data)
            self.bytes_read += len(data)
        return data

    def readall(self) -> bytes:
        """Reads and returns everything up to end of stream."""
        return self.read(-1)

    def hexdigest(self) -> str:
        """Returns the hex digest of all bytes read so far."""
        return self._hasher.hexdigest()


class HashingWriter(io.RawIOBase):
    """Write-only wrapper that hashes and counts every byte written to `raw`.

    Each `write` writes the whole buffer (looping over short writes). The wrapped stream is not
    closed when this wrapper is closed; its owner closes it.
    """

    def __init__(self, raw: BinaryIO, algorithm: str) -> None:
        super().__init__()
        self._raw = raw
        self._hasher = new_hasher(algorithm)
        self.bytes_written = 0

    def writable(self) -> bool:
        """Returns True: this stream can be written."""
        return True

    def write(self, buffer: ReadableBuffer, /) -> int:
        """Hashes and writes all of `buffer`; returns its length in bytes."""
        view = _byte_view(buffer)
        total = len(view)
        self._hasher.update(view)
        done = 0
        while done < total:
            n = self._raw.write(view[done:])
            if not n:
                raise OSError(f"short write: wrapped stream accepted {done} of {total} bytes")
            done += n
        self.bytes_written += total
        return total

    def flush(self) -> None:
        """Flushes the wrapped stream."""
        super().flush()
        self._raw.flush()

    def hexdigest(self) -> str:
        """Returns the hex digest of all bytes written so far."""
        return self._hasher.hexdigest()


def file_checksum(path: Path, algorithm: str, bufsize: int = 1 << 20) -> str:
    """Returns the hex digest of the file at `path`, read once in `bufsize` chunks."""
    hasher = new_hasher(algorithm)
    if bufsize <= 0:
        raise ValueError(f"bufsize must be positive, got {bufsize}")
    buf = bytearray(bufsize)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            hasher.update(view[:n])
    return hasher.hexdigest()
