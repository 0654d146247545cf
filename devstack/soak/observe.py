"""What the stack holds after the soak, read directly (never through the faulty proxy)."""

import hashlib

from botocore.client import BaseClient

from devstack.scicat_sim import SciCatSimulator
from devstack.soak.datasets import PREFIX
from devstack.soak.invariants import DatablockSeen, DatasetSeen
from devstack.stack import LANDING_ZONE_BUCKET


def landing_zone_md5s(s3: BaseClient, pid: str) -> dict[str, str]:
    """Each of the dataset's landing-zone objects (path under raw_files/) and its bytes' md5."""
    prefix = f"{PREFIX}/datasets/{pid}/raw_files/"
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=LANDING_ZONE_BUCKET, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=LANDING_ZONE_BUCKET, Key=item["Key"])["Body"].read()
            found[item["Key"][len(prefix) :]] = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return found


def observe_dataset(scicat: SciCatSimulator, s3: BaseClient, pid: str) -> DatasetSeen:
    """The dataset's lifecycle status and datablocks in SciCat, and its landing-zone objects."""
    dataset = scicat.dataset(pid) or {}
    lifecycle = dataset.get("datasetlifecycle") or {}
    blocks = [
        DatablockSeen(
            archive_id=block["archiveId"], size=block["size"], packed_size=block["packedSize"]
        )
        for block in scicat.datablocks(pid)
    ]
    returned = lifecycle.get("archiveReturnMessage")
    return DatasetSeen(
        pid=pid,
        error=str(returned.get("message", "")) if isinstance(returned, dict) else "",
        status=lifecycle.get("archiveStatusMessage"),
        datablocks=sorted(blocks, key=lambda block: block.archive_id),
        landing_zone=landing_zone_md5s(s3, pid),
    )


def job_states(scicat: SciCatSimulator, job_ids: list[str]) -> dict[str, str]:
    """Each job's status code (`missing` for a job SciCat does not know)."""
    return {job: str((scicat.job(job) or {}).get("statusCode", "missing")) for job in job_ids}
