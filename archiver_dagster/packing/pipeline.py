"""A second core for the whole-tar checksum: buffers hashed (and written) on a worker thread.

The member checksum is computed by the thread that reads the data; the tar checksum covers the
same bytes plus headers and padding. `TarSink` takes every byte of the tar in order and hashes
it on its own thread (hashlib releases the GIL for large updates), optionally writing it too,
while the caller reads and hashes the next buffer: a bounded ring of reusable buffers, so memory
stays flat whatever the tar size.
"""

from __future__ import annotations

import mmap
import queue
import threading
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Protocol

from archiver_dagster.packing.checksums import new_hasher

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

DEFAULT_BUFFERS = 4
_STOP = None


class Writable(Protocol):
    """Where a tar goes: an unbuffered file, or a writer that flushes as it goes."""

    def write(self, data: ReadableBuffer, /) -> int | None:
        """Writes some of `data`; returns how much."""


class TarSink:
    """Hashes (and writes to `out`, if given) everything submitted, in order, on a thread.

    Use `acquire()` to get a free buffer, fill it, then `submit(buffer, n)`; small immutable
    data (headers, padding) goes through `update`. `finish()` returns the hex digest. An error
    of the worker (a failed write) is raised by the next call.
    """

    def __init__(
        self,
        algorithm: str,
        bufsize: int,
        out: Writable | None = None,
        buffers: int = DEFAULT_BUFFERS,
    ) -> None:
        if bufsize <= 0:
            raise ValueError(f"bufsize must be positive, got {bufsize}")
        self._hasher = new_hasher(algorithm)
        self._out = out
        self._free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()
        for _ in range(buffers):
            # Page-aligned (anonymous mmap), so a buffer can be the target of an O_DIRECT read.
            self._free.put(mmap.mmap(-1, bufsize))
        self._work: queue.SimpleQueue[tuple[ReadableBuffer, mmap.mmap | None] | None] = (
            queue.SimpleQueue()
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tar-sink", daemon=True)
        self._thread.start()
        self.bytes_submitted = 0

    def _run(self) -> None:
        while (item := self._work.get()) is not _STOP:
            data, owned = item
            try:
                if self._error is None:
                    self._hasher.update(data)
                    if self._out is not None:
                        _write_all(self._out, data)
            except BaseException as error:
                self._error = error
            finally:
                if owned is not None:
                    self._free.put(owned)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def acquire(self) -> mmap.mmap:
        """A free buffer of `bufsize` bytes (waits while all are queued)."""
        self._check()
        return self._free.get()

    def submit(self, buffer: mmap.mmap, length: int) -> None:
        """Queues `buffer[:length]`; the buffer returns to the pool once it is processed."""
        self._check()
        self._work.put((memoryview(buffer)[:length], buffer))
        self.bytes_submitted += length

    def release(self, buffer: mmap.mmap) -> None:
        """Returns an acquired buffer unused."""
        self._free.put(buffer)

    def update(self, data: bytes) -> None:
        """Queues immutable bytes (never modified afterwards)."""
        self._check()
        if data:
            self._work.put((data, None))
            self.bytes_submitted += len(data)

    def finish(self) -> str:
        """Waits for everything queued; returns the hex digest (or raises the worker's error)."""
        self.close()
        self._check()
        return self._hasher.hexdigest()

    def close(self) -> None:
        """Stops the worker after what is queued (idempotent)."""
        if self._thread.is_alive():
            self._work.put(_STOP)
            self._thread.join()

    def __enter__(self) -> TarSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _write_all(out: Writable, data: ReadableBuffer) -> None:
    """Writes all of `data`, looping over short writes."""
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        n = out.write(view[done:])
        if not n:
            raise OSError(f"short write: accepted {done} of {len(view)} bytes")
        done += n


def fill(source: BinaryIO, view: memoryview) -> int:
    """Reads into `view` until it is full or the source ends; returns the bytes read."""
    readinto = getattr(source, "readinto", None)
    done = 0
    while done < len(view):
        if readinto is not None:
            n = readinto(view[done:])
        else:
            data = source.read(len(view) - done)
            n = len(data)
            view[done : done + n] = data
        if not n:
            break
        done += n
    return done
