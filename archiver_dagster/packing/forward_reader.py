"""A sequential stream presented as a file that can only seek forwards.

`tarfile`'s random-access mode ("r:") only ever seeks forwards when members are read in order,
and, unlike its stream mode ("r|"), it reads member data straight from the file object instead
of through a re-sliced internal buffer (whose cost grows with the buffer size for every small
read). This adapter lets it read a non-seekable stream exactly once, in order.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_SKIP_CHUNK = 1 << 16


class ByteSource(Protocol):
    """Anything with a blocking binary `read`, such as a file or a `HashingReader`."""

    def read(self, size: int = -1, /) -> bytes:
        """Reads up to `size` bytes; returns b"" only at end of stream."""
        ...


class ForwardOnlyReader(io.RawIOBase):
    """Read-only, forward-seekable view of a sequential stream; reads return full lengths.

    `read(n)` keeps reading until it has `n` bytes or the stream ends, as `tarfile` expects of
    regular files. The wrapped stream is not closed when this wrapper is closed.
    """

    def __init__(self, raw: ByteSource) -> None:
        super().__init__()
        self._raw = raw
        self._pos = 0

    def readable(self) -> bool:
        """Returns True: this stream can be read."""
        return True

    def seekable(self) -> bool:
        """Returns True, although only forward seeks (and seeks to the current offset) work."""
        return True

    def tell(self) -> int:
        """Returns the number of bytes consumed so far."""
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        """Moves forwards by reading and discarding; a backward seek raises UnsupportedOperation."""
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        else:
            raise io.UnsupportedOperation("a sequential stream cannot seek from its end")
        if target < self._pos:
            raise io.UnsupportedOperation(
                f"cannot seek backwards (from {self._pos} to {target}) in a sequential stream"
            )
        while self._pos < target:
            if not self.read(min(target - self._pos, _SKIP_CHUNK)):
                break
        return self._pos

    def read(self, size: int | None = -1, /) -> bytes:
        """Reads `size` bytes (all when negative), fewer only at end of stream."""
        if size is None or size < 0:
            data = self._raw.read()
            self._pos += len(data)
            return data
        data = self._raw.read(size)
        if len(data) == size or not data:
            self._pos += len(data)
            return data
        parts = [data]
        missing = size - len(data)
        while missing and (more := self._raw.read(missing)):
            parts.append(more)
            missing -= len(more)
        data = b"".join(parts)
        self._pos += len(data)
        return data

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fills `buffer` from the stream, short only at end of stream."""
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)
