"""Tiny datasets (one 1 KiB file each) registered in SciCat and uploaded, a few at a time."""

import threading
from concurrent.futures import ThreadPoolExecutor

from botocore.client import BaseClient

from devstack.seed import SciCatSeeder, sample_files, upload_files
from devstack.stack import LANDING_ZONE_BUCKET, SCICAT_PASSWORD, SCICAT_USER

PREFIX = "openem-network"
FILE_SIZE = 1024
THREADS = 8


def seed_tiny_datasets(scicat_url: str, s3: BaseClient, pids: list[str]) -> int:
    """Registers and uploads one 1 KiB file per PID; returns the bytes uploaded."""
    local = threading.local()
    files = sample_files(1, FILE_SIZE)

    def seed_one(pid: str) -> int:
        if not hasattr(local, "seeder"):
            local.seeder = SciCatSeeder(scicat_url, SCICAT_USER, SCICAT_PASSWORD)
        local.seeder.create_dataset(pid, files)
        return upload_files(s3, LANDING_ZONE_BUCKET, PREFIX, pid, files)

    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="seed") as pool:
        return sum(pool.map(seed_one, pids))
