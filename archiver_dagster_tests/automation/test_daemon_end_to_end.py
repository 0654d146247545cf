"""End to end with the daemon: SciCat jobs in, runs launched by the sensor, job status out.

On sqlite with the repository's dagster.yaml, and on PostgreSQL with the production one.
"""

import io
import os
import tarfile
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, RunsFilter

from archiver_dagster.pools import apply_pool_limits
from archiver_dagster_tests.automation.conftest import SciCatUser
from archiver_dagster_tests.deploy.files import production_instance_yaml
from archiver_dagster_tests.helpers import archive_status, landing_zone_keys, wait_until
from archiver_dagster_tests.postgres_server import STORAGES
from devstack.demo import open_instance, prepare_dagster_home
from devstack.seed import sample_files
from devstack.services import DagsterServices
from devstack.stack import LocalStack

TIMEOUT_S = 180.0


@pytest.fixture(scope="module", params=STORAGES)
def services(request, stack: LocalStack, tmp_path_factory) -> Iterator[DagsterServices]:
    """The code server and the daemon on sqlite or PostgreSQL.

    sqlite: the repository's dagster.yaml. PostgreSQL: the production one (deploy/dagster.yaml,
    with the default run launcher), on a database of its own.
    """
    home = tmp_path_factory.mktemp("dagster_home")
    env = {**os.environ, "ARCHIVER_SENSOR_INTERVAL_S": "1"}
    with ExitStack() as exits:
        if request.param == "postgres":
            server = request.getfixturevalue("postgres_server")
            database = exits.enter_context(server.database())
            (home / "dagster.yaml").write_text(production_instance_yaml())
            # This process opens the instance too (`daemon_instance`): restored afterwards.
            patch = exits.enter_context(pytest.MonkeyPatch.context())
            for name, value in server.env(database).items():
                patch.setenv(name, value)
                env[name] = value
        else:
            prepare_dagster_home(home)
        with open_instance(home) as instance:
            apply_pool_limits(instance, {"lts_write": 2, "lts_read": 2, "lts_free_space": 1})
        yield exits.enter_context(DagsterServices(home, env))


@pytest.fixture
def daemon_instance(services) -> Iterator[DagsterInstance]:
    with open_instance(services.home) as instance:
        yield instance


@pytest.fixture
def user(stack) -> SciCatUser:
    return SciCatUser(stack.scicat)


def final_status(user: SciCatUser, job_id: str) -> tuple[str, str | None]:
    def finished():
        status = user.status(3, job_id)
        return status if status[0].startswith("finished") else None

    return wait_until(finished, TIMEOUT_S, what=f"SciCat job {job_id} to finish")


def test_archive_job_with_two_datasets_succeeds(services, stack, user, seed_dataset, unique_pid):
    pids = [unique_pid(), "plain-" + unique_pid().split("/")[1]]
    for pid in pids:
        seed_dataset(pid)
    created = time.monotonic()

    job_id = user.job(3, pids)
    status, message = final_status(user, job_id)

    latency = time.monotonic() - created
    assert (status, message) == ("finishedSuccessful", "archive of 2 datasets succeeded"), message
    for pid in pids:
        assert archive_status(stack, pid) == "datasetOnArchiveDisk"
        assert landing_zone_keys(stack, pid) == []
    print(f"job creation -> finishedSuccessful: {latency:.1f} s")  # noqa: T201 - for the report


def test_missing_files_end_with_dataset_errors(services, stack, user, seed_dataset, unique_pid):
    pid = unique_pid()
    files = sample_files(3, 500)
    seed_dataset(pid, files, upload=files[:2])

    status, message = final_status(user, user.job(3, [pid]))

    assert status == "finishedWithDatasetErrors"
    assert pid in message and "missing" in message
    assert archive_status(stack, pid) == "missingFilesError"
    assert len(landing_zone_keys(stack, pid)) == 2


def test_system_failure_makes_the_job_unsuccessful(services, stack, user, seed_dataset, unique_pid):
    good, broken = unique_pid(), unique_pid()
    seed_dataset(good)
    seed_dataset(broken)
    # The LTS cannot hold the broken dataset: a plain file sits where its folder should be.
    blocker = stack.lts_root / "openem-network" / "datasets" / broken
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")

    status, message = final_status(user, user.job(3, [good, broken]))

    assert status == "finishedUnsuccessful"
    assert f"{broken}: system error" in message
    assert good not in message
    assert archive_status(stack, good) == "datasetOnArchiveDisk"
    assert archive_status(stack, broken) == "scheduleArchiveJobFailed"
    assert len(landing_zone_keys(stack, broken)) == 6
    assert stack.scicat.datablocks(broken) == []


def test_daemon_restart_launches_nothing_twice(
    services, daemon_instance, stack, user, seed_dataset, unique_pid
):
    pids = [unique_pid() for _ in range(3)]
    for pid in pids:
        seed_dataset(pid)
    job_id = user.job(3, pids)

    def runs_of_job():
        return daemon_instance.get_runs(filters=RunsFilter(tags={"scicat/job_id": job_id}))

    wait_until(lambda: len(runs_of_job()) == 3, what="the sensor to launch the runs")
    services.restart_daemon(pause_s=2)

    status, message = final_status(user, job_id)

    assert status == "finishedSuccessful", message
    runs = runs_of_job()
    assert sorted(run.tags["dagster/partition"] for run in runs) == sorted(pids)
    for pid in pids:
        assert archive_status(stack, pid) == "datasetOnArchiveDisk"
        # The partition's page shows which SciCat job archived it.
        [record] = daemon_instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey("origdatablocks"), asset_partitions=[pid]),
            limit=1,
        ).records
        assert record.asset_materialization.metadata["scicat_job_id"].value == job_id


def job_result(user: SciCatUser, job_id: str) -> list[dict]:
    response = requests.get(f"{user.base}/api/v3/Jobs/{job_id}", headers=user.headers, timeout=5)
    return response.json()["jobResultObject"]["result"]


def test_archive_then_retrieve_through_scicat_jobs(services, stack, user, seed_dataset, unique_pid):
    pid = unique_pid()
    files = seed_dataset(pid, sample_files(5, 4000))
    assert final_status(user, user.job(3, [pid]))[0] == "finishedSuccessful"

    retrieve_job = user.job(3, [pid], job_type="retrieve")
    status, message = final_status(user, retrieve_job)

    assert status == "finishedSuccessful", message
    entries = job_result(user, retrieve_job)
    assert {entry["datasetId"] for entry in entries} == {pid}
    downloaded = {}
    for entry in entries:
        assert set(entry) == {"datasetId", "name", "size", "archiveId", "url"}
        body = requests.get(entry["url"], timeout=10).content
        assert len(body) == entry["size"]
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            for member in tar.getmembers():
                downloaded[member.name] = tar.extractfile(member).read()
    assert downloaded == {file.path: file.content() for file in files}
    lifecycle = stack.scicat.dataset(pid)["datasetlifecycle"]
    assert lifecycle["retrieveStatusMessage"] == "datasetRetrieved"


def test_two_concurrent_retrieve_jobs_copy_the_dataset_once(
    services, daemon_instance, stack, user, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    assert final_status(user, user.job(3, [pid]))[0] == "finishedSuccessful"

    jobs = [user.job(3, [pid], job_type="retrieve") for _ in range(2)]
    outcomes = [final_status(user, job_id) for job_id in jobs]

    assert [status for status, _ in outcomes] == ["finishedSuccessful"] * 2
    # The queue runs one run per dataset at a time; the second found the verified copy.
    runs = daemon_instance.get_runs(
        filters=RunsFilter(tags={"dagster/partition": pid, "scicat/job_type": "retrieve"})
    )
    records = daemon_instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("retrieved_datablocks"), asset_partitions=[pid]),
        limit=10,
    ).records
    copied = sorted(r.asset_materialization.metadata["copied_from_lts"].value for r in records)
    assert len(runs) == 2
    assert copied == [0, 1]
    assert job_result(user, jobs[0])[0]["archiveId"] == job_result(user, jobs[1])[0]["archiveId"]
