"""The machine's floor, measured in the same run: disk, checksum and S3 GET throughput."""

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MB = 1_000_000
_CHUNK = 8 << 20


def disk_floor(folder: Path, size: int) -> dict[str, float]:
    """Sequential write + fsync, then read after evicting the file from the page cache (MB/s)."""
    path = folder / "floor-probe.bin"
    block = os.urandom(_CHUNK)
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(max(1, size // _CHUNK)):
            os.write(fd, block)
        os.fsync(fd)
    finally:
        os.close(fd)
    written = max(1, size // _CHUNK) * _CHUNK
    write_s = time.perf_counter() - started
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        buf = bytearray(_CHUNK)
        started = time.perf_counter()
        while os.readv(fd, [buf]):
            pass
        read_s = time.perf_counter() - started
    finally:
        os.close(fd)
        path.unlink()
    return {"disk_write_fsync": written / MB / write_s, "disk_read_uncached": written / MB / read_s}


def checksum_floor(algorithm: str, size: int = 512 << 20, chunk: int = 1 << 20) -> float:
    """One core's throughput of `algorithm` over `chunk`-sized updates (MB/s)."""
    data = memoryview(os.urandom(chunk))
    hasher = hashlib.new(algorithm, usedforsecurity=False)
    started = time.perf_counter()
    for _ in range(size // chunk):
        hasher.update(data)
    return size / MB / (time.perf_counter() - started)


def s3_get_floor(client: Any, bucket: str, keys: Sequence[str], concurrency: int) -> float:
    """Reads every object once (one GET each, `concurrency` at a time), discarding (MB/s)."""

    def get(key: str) -> int:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        total = 0
        while data := body.read(_CHUNK):
            total += len(data)
        return total

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        total = sum(pool.map(get, keys))
    return total / MB / (time.perf_counter() - started)
