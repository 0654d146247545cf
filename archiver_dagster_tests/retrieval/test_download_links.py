"""Download links are bearer credentials: SciCat's job result holds them, Dagster never does."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from dagster import DagsterInstance, build_sensor_context

from archiver_dagster.automation.status_sensor import scicat_job_status_sensor
from archiver_dagster.definitions import build_resources
from archiver_dagster.scicat.job_api import JobStatus, update_job
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.tags import job_run_tags
from archiver_dagster_tests.helpers import archive, lts_folder, retrieve
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack

# What identifies a presigned SigV4 link, in any quoting.
SIGNED = re.compile(r"X-Amz-(Signature|Credential|Security-Token)|Signature=", re.IGNORECASE)


def retrieve_job_in_progress(stack: LocalStack, pid: str) -> str:
    """A SciCat retrieve job of `pid`, already marked `inProgress` as the intake sensor does."""
    body = {"type": "retrieve", "datasetList": [{"pid": pid, "files": []}]}
    job_id = str(stack.scicat.seed_job(body, api_version=3)["id"])
    scicat = SciCatResource(
        endpoint=stack.scicat.url, username=SCICAT_USER, password=SCICAT_PASSWORD
    )
    with scicat.tick_session() as client:
        update_job(client, job_id, JobStatus.IN_PROGRESS, "retrieve of 1 datasets started")
    return job_id


def report_jobs(instance: DagsterInstance) -> None:
    """One tick of the job status sensor, as the daemon runs it."""
    resources = build_resources()
    needed = {key: resources[key] for key in ("scicat", "retrieval_bucket")}
    with build_sensor_context(instance=instance, resources=needed) as context:
        scicat_job_status_sensor(context)


def everything_dagster_stored(instance: DagsterInstance) -> str:
    """Every event of every run (logs, metadata, failures) and every run's tags and config."""
    parts = []
    for run in instance.get_runs():
        parts.append(json.dumps({"tags": run.tags, "config": run.run_config}, default=str))
        parts.extend(entry.to_json() for entry in instance.all_logs(run.run_id))
    return "\n".join(parts)


def test_links_reach_scicat_only_and_dagster_records_keys_and_expiry(
    stack: LocalStack,
    instance: DagsterInstance,
    seed_dataset,
    unique_pid,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    tars = {path.name: path.read_bytes() for path in lts_folder(stack, pid).iterdir()}
    job_id = retrieve_job_in_progress(stack, pid)
    result = retrieve(instance, pid, tags=job_run_tags(job_id, "retrieve"))
    assert result.success
    capfd.readouterr()  # what the runs printed is in their event log, scanned below

    report_jobs(instance)
    sensor_output = capfd.readouterr()

    job = stack.scicat.job(job_id)
    assert job is not None and job["statusCode"] == "finishedSuccessful"
    entries = job["jobResultObject"]["result"]
    urls = [entry["url"] for entry in entries]
    assert sorted(entry["name"] for entry in entries) == sorted(tars)
    for entry in entries:  # the links work, and they are the only place the user gets them
        assert SIGNED.search(entry["url"])
        response = requests.get(entry["url"], timeout=10)
        assert response.status_code == 200, response.text
        assert response.content == tars[entry["name"]]
    stored = everything_dagster_stored(instance)
    assert "retrieved_datablocks" in stored  # the scan sees the retrieval's events
    assert not SIGNED.search(stored)
    assert not [url for url in urls if url in stored or url.split("?")[0] + "?" in stored]
    logged = sensor_output.out + sensor_output.err
    assert job_id in logged  # the sensor's log is captured
    assert not SIGNED.search(logged)
    # What Dagster records instead: the objects' keys and when the downloads expire.
    [materialization] = result.asset_materializations_for_node("retrieved_datablocks")
    metadata = materialization.metadata
    assert metadata["object_keys"].data == sorted(entry["archiveId"] for entry in entries)
    days = build_resources()["retrieval_bucket"].url_expiration_days
    expected_expiry = datetime.now(UTC) + timedelta(days=days)
    assert abs(metadata["expires_at"].value - expected_expiry.timestamp()) < 600
    assert all(entry["archiveId"] in logged for entry in entries)
