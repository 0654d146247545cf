"""Reading a file from the storage media, bypassing the page cache (`O_DIRECT`).

The LTS read-back must prove what the media holds. Dropping the file's pages
(`POSIX_FADV_DONTNEED`) before a buffered read already does that, but every byte then still
passes through the page cache, which under concurrent read-backs costs many times the kernel
time of `O_DIRECT` (docs/performance.md). With `O_DIRECT` the device writes straight into our
buffers, which must be aligned; `DirectFileReader` reads aligned buffers directly and anything
else through an aligned bounce buffer, so it works for any caller. Where the filesystem refuses
`O_DIRECT` (tmpfs, some FUSE mounts) it falls back to a buffered read after the page-cache drop,
and says so in `direct`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import io
import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# O_DIRECT needs buffer address, file offset and length aligned to the device's logical block
# size; a page is a multiple of every common one (512 B, 4 KiB).
ALIGNMENT = mmap.PAGESIZE
_BOUNCE_SIZE = 1 << 20


def drop_page_cache(path: Path) -> None:
    """Evicts the file's clean pages from the page cache so the next read comes from the media."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def is_aligned(view: memoryview) -> bool:
    """Whether `view` can be the target of an `O_DIRECT` read (address and length aligned)."""
    if view.readonly or len(view) == 0 or len(view) % ALIGNMENT:
        return False
    address = ctypes.addressof(ctypes.c_char.from_buffer(view))
    return address % ALIGNMENT == 0


class DirectFileReader(io.RawIOBase):
    """A read-only, sequential file opened with `O_DIRECT` where the filesystem allows it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
            self.direct = True
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            self._fd = os.open(path, os.O_RDONLY)
            self.direct = False
        # Also evicts what a buffered fallback would otherwise read from the cache.
        os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
        self._pos = 0
        self._eof = False
        self._bounce: mmap.mmap | None = None
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        """Returns True: this stream can be read."""
        return True

    def fileno(self) -> int:
        """The file descriptor."""
        return self._fd

    def tell(self) -> int:
        """Bytes returned so far."""
        return self._pos - len(self._pending)

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fills `buffer` from the file: directly if it is aligned, else through a bounce buffer."""
        view = memoryview(buffer).cast("B")
        if not view:
            return 0
        if self._pending:
            return self._serve_pending(view)
        if self._eof:
            return 0
        if is_aligned(view) and self._pos % ALIGNMENT == 0:
            return self._read_direct(view)
        if self._bounce is None:
            self._bounce = mmap.mmap(-1, _BOUNCE_SIZE)
        count = self._read_direct(memoryview(self._bounce))
        self._pending = memoryview(self._bounce)[:count]
        return self._serve_pending(view)

    def _serve_pending(self, view: memoryview) -> int:
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _read_direct(self, view: memoryview) -> int:
        """One read at the current (aligned) offset; a short read means end of file."""
        try:
            count = os.preadv(self._fd, [view], self._pos)
        except OSError as error:
            if error.errno != errno.EINVAL or not self.direct:
                raise
            self._buffered_from_now_on()
            count = os.preadv(self._fd, [view], self._pos)
        self._pos += count
        if count < len(view) and self.direct:
            # Short at the end of the file; a network filesystem may also return short in the
            # middle, and then only the size tells (an unaligned offset reads buffered next).
            self._eof = self._pos >= os.fstat(self._fd).st_size
        return count

    def _buffered_from_now_on(self) -> None:
        """Some filesystems accept `O_DIRECT` at open and refuse it at read: read buffered."""
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
        self.direct = False

    def close(self) -> None:
        """Closes the file and frees the bounce buffer."""
        if not self.closed:
            os.close(self._fd)
            self._pending = memoryview(b"")
            if self._bounce is not None:
                self._bounce.close()
        super().close()
