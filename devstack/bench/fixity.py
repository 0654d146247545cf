"""What the fixity checks cost: archive runs with and without them, and a check-only audit run.

`python -m devstack.bench.fixity [--rounds N]` from the repository root; prints medians. Each
dataset is 8 files of 4 MiB on the local stack (8 datablocks with its 4 MB target size).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from dagster import DagsterInstance, Definitions, materialize

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.definitions import build_resources
from archiver_dagster.fixity.audit_schedule import AUDIT_JOB_NAME, fixity_audit_job
from archiver_dagster.fixity.checks import fixity_checks
from archiver_dagster.partitions import DATASETS
from archiver_dagster.tags import PARTITION_TAG
from devstack.seed import SciCatSeeder, sample_files, upload_files
from devstack.stack import LANDING_ZONE_BUCKET, SCICAT_PASSWORD, SCICAT_USER, LocalStack

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _seed(stack: LocalStack, seeder: SciCatSeeder) -> str:
    pid = f"20.500.12345/{uuid.uuid4()}"
    files = sample_files(8, 4 << 20)
    seeder.create_dataset(pid, files, "md5")
    upload_files(stack.s3.client(), LANDING_ZONE_BUCKET, "openem-network", pid, files)
    return pid


def main(argv: list[str] | None = None) -> int:
    """Runs the rounds and prints the medians."""
    parser = argparse.ArgumentParser(prog="python -m devstack.bench.fixity")
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args(argv).rounds
    seconds: dict[str, list[float]] = {"without checks": [], "with checks": [], "audit": []}
    rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp) / "stack") as stack:
        os.environ.update(stack.env())
        seeder = SciCatSeeder(stack.scicat.url, SCICAT_USER, SCICAT_PASSWORD)
        audit_job = Definitions(
            assets=archival_assets,
            asset_checks=fixity_checks,
            jobs=[fixity_audit_job],
            resources=build_resources(),
        ).resolve_job_def(AUDIT_JOB_NAME)
        with DagsterInstance.ephemeral(tempdir=str(Path(tmp) / "dagster")) as instance:
            for _ in range(rounds):
                for label, assets in (
                    ("without checks", archival_assets),
                    ("with checks", [*archival_assets, *fixity_checks]),
                ):
                    pid = _seed(stack, seeder)
                    instance.add_dynamic_partitions(DATASETS, [pid])
                    started = time.perf_counter()
                    materialize(
                        assets,
                        partition_key=pid,
                        instance=instance,
                        resources=build_resources(),
                        run_config=QUIET,
                    )
                    seconds[label].append(time.perf_counter() - started)
                started = time.perf_counter()
                audit = audit_job.execute_in_process(
                    instance=instance, run_config=QUIET, tags={PARTITION_TAG: pid}
                )
                seconds["audit"].append(time.perf_counter() - started)
                [intact] = [
                    e
                    for e in audit.get_asset_check_evaluations()
                    if e.check_name == "lts_copies_intact"
                ]
                rates.append(float(intact.metadata["MB/s"].value))  # type: ignore[arg-type]
    for label, values in seconds.items():
        sys.stdout.write(
            f"{label}: median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})\n"
        )
    sys.stdout.write(f"lts_copies_intact read-back: median {statistics.median(rates):.1f} MB/s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
