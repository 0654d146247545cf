"""`python -m devstack demo`: a user asks SciCat to archive two datasets, then to retrieve one."""

import io
import os
import shutil
import tarfile
import time
import uuid
from pathlib import Path

import requests
from dagster import DagsterInstance, RunsFilter
from dagster._core.instance.ref import InstanceRef

from archiver_dagster.packing.checksums import TAR_CHECKSUM_ALGORITHM
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from devstack.console import say
from devstack.repository import REPOSITORY
from devstack.seed import (
    SampleFile,
    SciCatSeeder,
    create_job,
    sample_files,
    upload_files,
)
from devstack.services import DagsterServices
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

REPO_DAGSTER_YAML = REPOSITORY / "dagster.yaml"
JOB_TIMEOUT_S = 600.0


def prepare_dagster_home(home: Path) -> Path:
    """Creates DAGSTER_HOME with the repository's dagster.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    return home


def open_instance(home: Path) -> DagsterInstance:
    """The Dagster instance living in `home`."""
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def wait_for_job(stack: LocalStack, home: Path, job_id: str, started: float) -> dict[str, object]:
    """Polls SciCat and the instance, printing each change, until the job has finished."""
    shown = ""
    with open_instance(home) as instance:
        while time.monotonic() - started < JOB_TIMEOUT_S:
            job = stack.scicat.job(job_id) or {}
            runs = instance.get_runs(filters=RunsFilter(tags={"scicat/job_id": job_id}))
            counts: dict[str, int] = {}
            for run in runs:
                counts[run.status.value.lower()] = counts.get(run.status.value.lower(), 0) + 1
            runs_text = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
            line = f"SciCat job {job.get('statusCode')}; runs: {runs_text}"
            if line != shown:
                say(f"  [{time.monotonic() - started:5.1f} s] {line}")
                shown = line
            if str(job.get("statusCode", "")).startswith("finished"):
                return job
            time.sleep(0.5)
    raise TimeoutError(f"SciCat job {job_id} did not finish within {JOB_TIMEOUT_S:.0f} s")


def run_demo(root: Path, files: int, file_size: int) -> int:
    """Runs the demo under `root`; returns the process exit code."""
    shutil.rmtree(root, ignore_errors=True)
    home = prepare_dagster_home(root / "dagster_home")
    pids = [f"20.500.11935/demo-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with LocalStack(root / "stack") as stack:
        env = {**os.environ, **stack.env(), "DAGSTER_HOME": str(home)}
        env["ARCHIVER_SENSOR_INTERVAL_S"] = "2"
        say(f"local stack: SciCat {stack.scicat.url}, S3 {stack.s3.url}, LTS {stack.lts_root}")
        seeder = SciCatSeeder(stack.scicat.url, "archiver", "archiver-password")
        for pid in pids:
            sample = sample_files(files, file_size, folder=pid.rsplit("-", 1)[-1])
            seeder.create_dataset(pid, sample)
            size = upload_files(
                stack.s3.client(), LANDING_ZONE_BUCKET, "openem-network", pid, sample
            )
            say(f"dataset {pid}: {len(sample)} files, {size} bytes in the landing zone")
        with open_instance(home) as instance:
            say(f"pool limits: {apply_pool_limits(instance, configured_pool_limits(env))}")
        say("starting the Dagster code server and daemon ...")
        samples = {
            pid: sample_files(files, file_size, folder=pid.rsplit("-", 1)[-1]) for pid in pids
        }
        with DagsterServices(home, env):
            started = time.monotonic()
            job_id = create_job(seeder, "archive", pids)
            say(f"SciCat archive job {job_id} created for {len(pids)} datasets; waiting:")
            job = wait_for_job(stack, home, job_id, started)
            report(stack, job, pids, time.monotonic() - started)
            if job.get("statusCode") != "finishedSuccessful":
                return 1
            say()
            started = time.monotonic()
            retrieve_id = create_job(seeder, "retrieve", pids[:1])
            say(f"SciCat retrieve job {retrieve_id} created for {pids[0]}; waiting:")
            retrieved = wait_for_job(stack, home, retrieve_id, started)
            seconds = time.monotonic() - started
        return report_retrieval(retrieved, samples[pids[0]], seconds)


def report(stack: LocalStack, job: dict[str, object], pids: list[str], seconds: float) -> None:
    """Prints SciCat's job and dataset states, and what the LTS and landing zone hold."""
    say()
    result = job.get("jobResultObject")
    message = result.get("message") if isinstance(result, dict) else job.get("statusMessage")
    say(f"SciCat job:     {job.get('statusCode')}: {message}")
    say(f"elapsed:        {seconds:.1f} s from job creation to its final status")
    for pid in pids:
        report_dataset(stack, pid)


def report_dataset(stack: LocalStack, pid: str) -> None:
    """Prints one dataset's archive: datablocks on the LTS, checksums, lifecycle."""
    lifecycle = (stack.scicat.dataset(pid) or {}).get("datasetlifecycle", {})
    blocks = sorted(stack.scicat.datablocks(pid), key=lambda block: block["archiveId"])
    left = stack.s3.client().list_objects_v2(
        Bucket=LANDING_ZONE_BUCKET, Prefix=f"openem-network/datasets/{pid}/raw_files/"
    )["KeyCount"]
    files = sum(len(block["dataFileList"]) for block in blocks)
    say()
    say(f"dataset {pid}")
    say(
        f"  SciCat:       archiveStatusMessage={lifecycle.get('archiveStatusMessage')}, "
        f"archivable={lifecycle.get('archivable')}, retrievable={lifecycle.get('retrievable')}"
    )
    say(
        f"  files:        {files}, {sum(b['size'] for b in blocks)} bytes "
        f"({sum(b['packedSize'] for b in blocks)} packed)"
    )
    say(f"  datablocks:   {len(blocks)}")
    for block in blocks:
        path = stack.lts_root / block["archiveId"]
        say(
            f"    {path} ({block['packedSize']} bytes, {'on LTS' if path.is_file() else 'MISSING'})"
        )
    algorithm = blocks[0]["chkAlg"] if blocks else "-"
    say(
        f"  checksums:    {files} member ({algorithm}) + {len(blocks)} tar "
        f"({TAR_CHECKSUM_ALGORITHM}) checksums verified by reading the LTS copies back"
    )
    say(f"  landing zone: {left} objects left")


def report_retrieval(job: dict[str, object], originals: list[SampleFile], seconds: float) -> int:
    """Prints the retrieve job's download links, downloads them and compares with the originals."""
    result = job.get("jobResultObject")
    entries = result.get("result", []) if isinstance(result, dict) else []
    say()
    say(f"SciCat job:     {job.get('statusCode')} in {seconds:.1f} s; download links:")
    members: dict[str, bytes] = {}
    for entry in entries:
        say(f"  {entry['name']} ({entry['size']} bytes): {entry['url']}")
        body = requests.get(entry["url"], timeout=60).content
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            for member in tar.getmembers():
                extracted = tar.extractfile(member)
                members[member.name] = extracted.read() if extracted else b""
    identical = members == {file.path: file.content() for file in originals}
    say(
        f"downloaded:     {len(entries)} datablocks over plain HTTP, {len(members)} files, "
        f"{'byte-identical to the originals' if identical else 'DIFFERENT from the originals'}"
    )
    return 0 if job.get("statusCode") == "finishedSuccessful" and identical else 1
