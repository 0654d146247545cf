"""The soak's datasets: mixed sizes, some with files registered but never uploaded."""

import random
from dataclasses import dataclass
from typing import Any, Literal

from botocore.client import BaseClient

from devstack.scicat_sim import SciCatSimulator
from devstack.seed import (
    SEED_OWNER_GROUP,
    SampleFile,
    SciCatSeeder,
    upload_files,
)
from devstack.stack import LANDING_ZONE_BUCKET

PREFIX = "openem-network"
KIB = 1024


@dataclass(frozen=True)
class Shape:
    """Files of one dataset size class."""

    name: str
    files: int
    file_size: int
    share: float  # of the datasets


# With the local stack's 4 MB datablocks: tiny and small make one datablock, medium one nearly
# full, large five (each of its files fills one).
SHAPES = (
    Shape("tiny", 3, 1 * KIB, 0.30),
    Shape("small", 24, 16 * KIB, 0.30),
    Shape("medium", 6, 640 * KIB, 0.25),
    Shape("large", 5, 2560 * KIB, 0.15),
)
MISSING_SHARE = 0.15  # datasets with a registered file missing from the landing zone


@dataclass(frozen=True)
class SoakDataset:
    """A dataset as seeded: every registered file, and which were left out of the landing zone."""

    pid: str
    shape: str
    files: tuple[SampleFile, ...]
    missing: tuple[str, ...] = ()

    @property
    def uploaded(self) -> tuple[SampleFile, ...]:
        """The files put in the landing zone."""
        return tuple(file for file in self.files if file.path not in self.missing)

    @property
    def size(self) -> int:
        """Bytes registered in SciCat."""
        return sum(file.size for file in self.files)


def _shape_counts(count: int) -> list[Shape]:
    """`count` shapes in the configured shares, every shape at least once when count allows."""
    chosen = [shape for shape in SHAPES[:count]]
    while len(chosen) < count:
        # the shape furthest below its share gets the next dataset
        chosen.append(max(SHAPES, key=lambda s: s.share * (len(chosen) + 1) - chosen.count(s)))
    return chosen


def plan_datasets(count: int, seed: int) -> list[SoakDataset]:
    """`count` datasets of mixed shapes in a seeded order; at least one with a missing file."""
    rng = random.Random(seed)
    shapes = _shape_counts(count)
    rng.shuffle(shapes)
    missing = set(rng.sample(range(count), max(1, round(count * MISSING_SHARE))))
    plans = []
    for index, shape in enumerate(shapes):
        # a few PIDs without a `/`, the rest like handles
        pid = (
            f"soak-{seed}-{index:03d}"
            if index % 7 == 3
            else f"20.500.11935/soak-{seed}-{index:03d}"
        )
        files = tuple(
            SampleFile(
                path=f"{shape.name}/run_{n % 2}/frame_{n:04d}.bin",
                size=shape.file_size + n,  # sizes differ, as real files' do
                seed=seed * 1000 + index,
            )
            for n in range(shape.files)
        )
        gone = (files[-1].path,) if index in missing else ()
        plans.append(SoakDataset(pid=pid, shape=shape.name, files=files, missing=gone))
    return plans


def seed_datasets(seeder: SciCatSeeder, s3: BaseClient, plans: list[SoakDataset]) -> int:
    """Registers every dataset in SciCat and uploads its files (not the missing ones); bytes."""
    total = 0
    for plan in plans:
        seeder.create_dataset(plan.pid, plan.files)
        total += upload_files(s3, LANDING_ZONE_BUCKET, PREFIX, plan.pid, plan.uploaded)
    return total


def split_into_jobs(plans: list[SoakDataset], jobs: int) -> list[list[str]]:
    """The PIDs split into `jobs` archive jobs of nearly equal size, in order."""
    jobs = max(1, min(jobs, len(plans)))
    return [[plan.pid for plan in plans[index::jobs]] for index in range(jobs)]


def submit_job(scicat: SciCatSimulator, pids: list[str], api_version: Literal[3, 4]) -> str:
    """Creates an archive job as a user would, with a v3 or v4 body; its id.

    Through the simulator's handle, not HTTP: SciCat may be down for the archiver just then,
    and a user's job creation is not what the soak tests.
    """
    entries = [{"pid": pid, "files": []} for pid in pids]
    if api_version == 3:
        body: dict[str, Any] = {
            "type": "archive",
            "datasetList": entries,
            "emailJobInitiator": "owner@example.org",
        }
    else:
        body = {
            "type": "archive",
            "jobParams": {"datasetList": entries},
            "ownerGroup": SEED_OWNER_GROUP,
            "contactEmail": "owner@example.org",
        }
    return str(scicat.seed_job(body, api_version=api_version)["id"])
