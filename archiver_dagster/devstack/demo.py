"""`archiver-dagster demo`: archive a generated dataset end to end on the embedded stack."""

import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from dagster import DagsterInstance, execute_job, reconstructable

from archiver_dagster.definitions import archive_dataset_job_def
from archiver_dagster.devstack.seed import SciCatSeeder, sample_files, upload_files
from archiver_dagster.devstack.stack import LANDING_ZONE_BUCKET, LocalStack
from archiver_dagster.partitions import DATASETS
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"


def say(text: str = "") -> None:
    """Writes one line of the demo's report."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def prepare_dagster_home(home: Path) -> Path:
    """Creates DAGSTER_HOME with the repository's dagster.yaml (or Dagster's defaults)."""
    home.mkdir(parents=True, exist_ok=True)
    if REPO_DAGSTER_YAML.is_file():
        shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    return home


def run_demo(root: Path, files: int, file_size: int) -> int:
    """Runs the demo under `root`; returns the process exit code."""
    shutil.rmtree(root, ignore_errors=True)
    home = prepare_dagster_home(root / "dagster_home")
    pid = f"20.500.11935/demo-{uuid.uuid4().hex[:8]}"
    with LocalStack(root / "stack") as stack:
        os.environ.update(stack.env())
        os.environ["DAGSTER_HOME"] = str(home)
        say(f"local stack: SciCat {stack.scicat.url}, S3 {stack.s3.url}, LTS {stack.lts_root}")
        sample = sample_files(files, file_size)
        SciCatSeeder(stack.scicat.url, "archiver", "archiver-password").create_dataset(pid, sample)
        uploaded = upload_files(
            stack.s3.client(), LANDING_ZONE_BUCKET, "openem-network", pid, sample
        )
        say(f"seeded dataset {pid}: {len(sample)} files, {uploaded} bytes in the landing zone")
        with DagsterInstance.get() as instance:
            limits = apply_pool_limits(instance, configured_pool_limits())
            say(f"pool limits: {limits}")
            instance.add_dynamic_partitions(DATASETS, [pid])
            say(f"archiving {pid} (archive_dataset_job, multiprocess executor) ...")
            started = time.monotonic()
            with execute_job(
                reconstructable(archive_dataset_job_def),
                instance=instance,
                tags={"dagster/partition": pid},
                run_config=QUIET_RUN_CONFIG,
                raise_on_error=False,
            ) as result:
                success = result.success
            seconds = time.monotonic() - started
        report(stack, pid, success, seconds)
    return 0 if success else 1


def report(stack: LocalStack, pid: str, success: bool, seconds: float) -> None:
    """Prints what SciCat, the LTS and the landing zone hold after the run."""
    dataset = stack.scicat.dataset(pid) or {}
    lifecycle = dataset.get("datasetlifecycle", {})
    blocks = sorted(stack.scicat.datablocks(pid), key=lambda block: block["archiveId"])
    left = stack.s3.client().list_objects_v2(
        Bucket=LANDING_ZONE_BUCKET, Prefix=f"openem-network/datasets/{pid}/"
    )["KeyCount"]
    files = sum(len(block["dataFileList"]) for block in blocks)
    size = sum(block["size"] for block in blocks)
    say()
    say(f"run:            {'succeeded' if success else 'FAILED'} in {seconds:.1f} s")
    say(f"files:          {files}")
    say(f"bytes:          {size} unpacked, {sum(b['packedSize'] for b in blocks)} packed")
    say(f"datablocks:     {len(blocks)}")
    for block in blocks:
        path = stack.lts_root / block["archiveId"]
        on_lts = "on LTS" if path.is_file() else "MISSING on LTS"
        say(f"  {path} ({block['packedSize']} bytes, {on_lts})")
    algorithm = blocks[0]["chkAlg"] if blocks else ""
    verified = f"{files} member {algorithm} checksums + {len(blocks)} tar checksums, read back"
    say(f"checksums:      {verified if success else 'not verified'}")
    say(
        f"SciCat:         archiveStatusMessage={lifecycle.get('archiveStatusMessage')}, "
        f"archivable={lifecycle.get('archivable')}, retrievable={lifecycle.get('retrievable')}"
    )
    say(f"landing zone:   {left} objects left")
    say(f"throughput:     {size / 1e6 / seconds:.1f} MB/s end to end (incl. Dagster start-up)")
