"""CPU seconds per GB of packing and reading back a tar, by whole-tar checksum algorithm.

`python -m devstack.bench.tar_hash [--gib 1] [--repeat 3] [--members md5]` packs the same
random files (from memory, so no S3 server shares the CPU) into a tar on the work folder's disk
with `write_tar`, then digests it with `digest_tar` from the page cache, once per whole-tar
algorithm and repetition, interleaved; it prints the CPU seconds (user + system, all threads)
and the wall seconds per GB of tar, medians over the repetitions.
"""

import argparse
import io
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.tar_stream import write_tar
from archiver_dagster.packing.verify import digest_tar
from devstack.console import say

GB = 1_000_000_000
FILE_SIZE = 64 << 20


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measured(action: Callable[[], int]) -> tuple[float, float]:
    """CPU and wall seconds per GB of what `action` returns (bytes)."""
    cpu, wall = _cpu(), time.perf_counter()
    size = action()
    return (_cpu() - cpu) * GB / size, (time.perf_counter() - wall) * GB / size


def main(argv: list[str] | None = None) -> None:
    """Measures and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--members", default="md5", help="the members' algorithm (chkAlg)")
    parser.add_argument("--tar-algorithms", default="md5,xxh3_128")
    parser.add_argument("--workdir", default=os.environ.get("TMPDIR", "/tmp"))
    args = parser.parse_args(argv)
    files = max(1, int(args.gib * (1 << 30)) // FILE_SIZE)
    data = os.urandom(FILE_SIZE)
    entries = [FileEntry(path=f"raw/f{i}.bin", size=FILE_SIZE) for i in range(files)]

    def sources() -> Iterator[tuple[FileEntry, BinaryIO]]:
        return ((entry, io.BytesIO(data)) for entry in entries)

    figures: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tar = Path(tmp) / "block.tar"
        for _ in range(args.repeat):
            for algorithm in args.tar_algorithms.split(","):
                row = figures.setdefault(algorithm, {})

                def pack(algorithm: str = algorithm) -> int:
                    return write_tar(
                        tar, sources(), args.members, tar_algorithm=algorithm
                    ).packed_size

                def read_back(algorithm: str = algorithm) -> int:
                    with tar.open("rb") as stream:
                        return digest_tar(stream, args.members, tar_algorithm=algorithm).packed_size

                for stage, action in (("pack", pack), ("read back", read_back)):
                    cpu, wall = _measured(action)
                    row.setdefault(f"{stage} CPU-s/GB", []).append(cpu)
                    row.setdefault(f"{stage} s/GB", []).append(wall)
                tar.unlink()
    say(f"{files} x {FILE_SIZE >> 20} MiB, members {args.members}, medians of {args.repeat}")
    for algorithm, row in figures.items():
        cells = ", ".join(f"{name} {statistics.median(v):.2f}" for name, v in row.items())
        say(f"whole tar {algorithm}: {cells}")


if __name__ == "__main__":
    main()
