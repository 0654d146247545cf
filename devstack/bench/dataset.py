"""Benchmark datasets: shapes, upload to the landing zone, registration in SciCat."""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devstack.seed import SampleFile, SciCatSeeder
from devstack.stack import (
    LANDING_ZONE_BUCKET,
    SCICAT_PASSWORD,
    SCICAT_USER,
    LocalStack,
)

PREFIX = "openem-network"
MIB = 1 << 20
# File size in MiB. `many` is `large` in several datablocks (the benchmark's --datablock-gib).
SHAPES = {"large": 256, "small": 1, "many": 256}


@dataclass(frozen=True)
class Shape:
    """A dataset of `count` files of `file_size` bytes."""

    name: str
    count: int
    file_size: int

    @property
    def total(self) -> int:
        """Payload bytes."""
        return self.count * self.file_size

    def label(self) -> str:
        """E.g. `8 x 256 MiB`."""
        size = self.file_size / MIB
        return (
            f"{self.count} x {size:g} MiB" if size >= 1 else f"{self.count} x {size * 1024:g} KiB"
        )

    def files(self) -> list[SampleFile]:
        """The files' paths and sizes (content is generated at upload)."""
        return [
            SampleFile(path=f"raw/run_{i % 4}/frame_{i:05d}.bin", size=self.file_size, seed=i)
            for i in range(self.count)
        ]


def make_shape(name: str, total_gib: float, file_mib: float | None) -> Shape:
    """A named shape (`large`, `small`, `many`, `tiny`) scaled to `total_gib`."""
    if name == "tiny":
        return Shape("tiny", 4, 64 * 1024)
    size = int((file_mib if file_mib is not None else SHAPES[name]) * MIB)
    return Shape(name, max(1, round(total_gib * (1 << 30) / size)), size)


def object_keys(pid: str, files: list[SampleFile]) -> list[str]:
    """Landing-zone keys of the files."""
    return [f"{PREFIX}/datasets/{pid}/raw_files/{file.path}" for file in files]


def upload(client: Any, pid: str, files: list[SampleFile], concurrency: int = 4) -> int:
    """Uploads random content for every file (`concurrency` PUTs at a time); returns bytes."""

    def put(item: tuple[str, SampleFile]) -> int:
        key, file = item
        client.put_object(Bucket=LANDING_ZONE_BUCKET, Key=key, Body=os.urandom(file.size))
        return file.size

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(pool.map(put, zip(object_keys(pid, files), files, strict=True)))


def seed(stack: LocalStack, pid: str, shape: Shape) -> list[str]:
    """Registers the dataset in SciCat and uploads its files; returns the object keys."""
    files = shape.files()
    # Random content, not the sample files' own: no checksums are registered (chk_alg None).
    seeder = SciCatSeeder(stack.scicat.url, SCICAT_USER, SCICAT_PASSWORD)
    seeder.create_dataset(pid, files, chk_alg=None)
    upload(stack.s3.client(), pid, files)
    return object_keys(pid, files)
