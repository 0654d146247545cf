"""End to end with the daemon: SciCat jobs in, runs launched by the sensor, job status out.

On sqlite with the repository's dagster.yaml, and on PostgreSQL with the production one. A job
takes the daemon tens of seconds, most of them waiting for its ticks (a sensor runs at most
every 5 s). So the module submits every test's jobs at once to one daemon, as SciCat users
would, and each test then checks its own: the waits overlap. A retrieve job is submitted once
its dataset's archive job has finished; the daemon is restarted while the archive jobs' runs
are in flight, so nothing that any test sees may have been launched twice.
"""

import io
import os
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, RunsFilter

from archiver_dagster.launcher.forked import ForkedRunLauncher
from archiver_dagster.launcher.worker_process import WorkerProcess
from archiver_dagster_tests.automation.conftest import SciCatUser
from archiver_dagster_tests.automation.daemon_home import daemon_home, forked_launcher_yaml
from archiver_dagster_tests.conftest import dataset_seeder
from archiver_dagster_tests.deploy.files import production_instance_yaml
from archiver_dagster_tests.helpers import archive_status, landing_zone_keys, wait_until
from archiver_dagster_tests.postgres_server import STORAGES
from devstack.demo import open_instance
from devstack.seed import SampleFile, sample_files
from devstack.services import DagsterServices
from devstack.stack import LocalStack

TIMEOUT_S = 240.0
# The first test's set-up runs every test's jobs.
pytestmark = pytest.mark.timeout(600)


def new_pid() -> str:
    return f"20.500.12345/{uuid.uuid4()}"


@dataclass
class Scenario:
    """One test's datasets (`files`, the first `uploaded` in the landing zone) and its jobs."""

    pids: list[str]
    files: list[SampleFile] = field(default_factory=lambda: sample_files(6, 1500))
    uploaded: int | None = None  # all
    archive_job: str = ""
    retrieve_jobs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module", params=(*STORAGES, "sqlite_forked"))
def services(request, stack: LocalStack, memory_dir: Path) -> Iterator[DagsterServices]:
    """The code server and the daemon on sqlite or PostgreSQL.

    sqlite: the repository's dagster.yaml. PostgreSQL: the production one (deploy/dagster.yaml,
    with `ForkedRunLauncher` in place of Docker's), on a database of its own. sqlite_forked:
    the repository's with the run workers forked by `ForkedRunLauncher`, which the daemon
    restart leaves running.
    """
    env = {**os.environ, "ARCHIVER_SENSOR_INTERVAL_S": "1"}
    with ExitStack() as exits:
        dagster_yaml = None
        if request.param == "postgres":
            server = request.getfixturevalue("postgres_server")
            database = exits.enter_context(server.database())
            dagster_yaml = production_instance_yaml()
            # This process opens the instance too (`daemon_instance`): restored afterwards.
            patch = exits.enter_context(pytest.MonkeyPatch.context())
            for name, value in server.env(database).items():
                patch.setenv(name, value)
                env[name] = value
        if request.param == "sqlite_forked":
            dagster_yaml = forked_launcher_yaml()
        home = daemon_home(memory_dir / f"daemon_end_to_end_{request.param}", dagster_yaml)
        yield exits.enter_context(DagsterServices(home, env))


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> SciCatUser:
    return SciCatUser(stack.scicat)


def final_status(user: SciCatUser, job_id: str) -> tuple[str, str | None]:
    def finished():
        status = user.status(3, job_id)
        return status if status[0].startswith("finished") else None

    return wait_until(finished, TIMEOUT_S, what=f"SciCat job {job_id} to finish")


def runs_of_job(instance: DagsterInstance, job_id: str) -> list:
    return instance.get_runs(filters=RunsFilter(tags={"scicat/job_id": job_id}))


@pytest.fixture(scope="module")
def jobs(services: DagsterServices, stack: LocalStack, user: SciCatUser) -> dict[str, Scenario]:
    """Every test's jobs, submitted at once; retrievals once their archive job has finished."""
    seed = dataset_seeder(stack)
    scenarios = {  # in the order of submission: the retrievals have the longest way to go
        "retrieve": Scenario([new_pid()], sample_files(5, 4000)),
        "two_retrieves": Scenario([new_pid()]),
        "two_datasets": Scenario([new_pid(), f"plain-{uuid.uuid4()}"]),
        "missing_files": Scenario([new_pid()], sample_files(3, 500), uploaded=2),
        "system_failure": Scenario([new_pid(), new_pid()]),
        "restart": Scenario([new_pid() for _ in range(3)]),
    }
    for scenario in scenarios.values():
        for pid in scenario.pids:
            seed(pid, scenario.files, upload=scenario.files[: scenario.uploaded])
    # The LTS cannot hold the second dataset: a plain file sits where its folder should be.
    blocker = stack.lts_root / "openem-network" / "datasets" / scenarios["system_failure"].pids[1]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    for scenario in scenarios.values():
        scenario.archive_job = user.job(3, scenario.pids)

    with open_instance(services.home) as instance:
        restarted = scenarios["restart"]
        wait_until(
            lambda: len(runs_of_job(instance, restarted.archive_job)) == len(restarted.pids),
            TIMEOUT_S,
            what="the sensor to launch the runs",
        )
    services.restart_daemon(pause_s=2)

    for name, count in (("retrieve", 1), ("two_retrieves", 2)):
        scenario = scenarios[name]
        if final_status(user, scenario.archive_job)[0] == "finishedSuccessful":
            scenario.retrieve_jobs = [
                user.job(3, scenario.pids, job_type="retrieve") for _ in range(count)
            ]
    return scenarios


@pytest.fixture
def daemon_instance(services: DagsterServices) -> Iterator[DagsterInstance]:
    with open_instance(services.home) as instance:
        yield instance


def test_archive_job_with_two_datasets_succeeds(jobs, stack, user):
    scenario = jobs["two_datasets"]

    status, message = final_status(user, scenario.archive_job)

    assert (status, message) == ("finishedSuccessful", "archive of 2 datasets succeeded"), message
    for pid in scenario.pids:
        assert archive_status(stack, pid) == "datasetOnArchiveDisk"
        assert landing_zone_keys(stack, pid) == []


def test_missing_files_end_with_dataset_errors(jobs, stack, user):
    [pid] = jobs["missing_files"].pids

    status, message = final_status(user, jobs["missing_files"].archive_job)

    assert status == "finishedWithDatasetErrors"
    assert pid in message and "missing" in message
    assert archive_status(stack, pid) == "missingFilesError"
    assert len(landing_zone_keys(stack, pid)) == 2


def test_system_failure_makes_the_job_unsuccessful(jobs, stack, user):
    good, broken = jobs["system_failure"].pids

    status, message = final_status(user, jobs["system_failure"].archive_job)

    assert status == "finishedUnsuccessful"
    assert f"{broken}: system error" in message
    assert good not in message
    assert archive_status(stack, good) == "datasetOnArchiveDisk"
    assert archive_status(stack, broken) == "scheduleArchiveJobFailed"
    assert len(landing_zone_keys(stack, broken)) == 6
    assert stack.scicat.datablocks(broken) == []


def test_daemon_restart_launches_nothing_twice(jobs, daemon_instance, stack, user):
    scenario = jobs["restart"]  # the daemon was restarted once its runs had been launched

    status, message = final_status(user, scenario.archive_job)

    assert status == "finishedSuccessful", message
    runs = runs_of_job(daemon_instance, scenario.archive_job)
    assert sorted(run.tags["dagster/partition"] for run in runs) == sorted(scenario.pids)
    for pid in scenario.pids:
        assert archive_status(stack, pid) == "datasetOnArchiveDisk"
        # The partition's page shows which SciCat job archived it.
        [record] = daemon_instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey("origdatablocks"), asset_partitions=[pid]),
            limit=1,
        ).records
        assert record.asset_materialization.metadata["scicat_job_id"].value == scenario.archive_job


def job_result(user: SciCatUser, job_id: str) -> list[dict]:
    response = requests.get(f"{user.base}/api/v3/Jobs/{job_id}", headers=user.headers, timeout=5)
    return response.json()["jobResultObject"]["result"]


def test_archive_then_retrieve_through_scicat_jobs(jobs, stack, user):
    scenario = jobs["retrieve"]
    [pid] = scenario.pids
    assert final_status(user, scenario.archive_job)[0] == "finishedSuccessful"

    [retrieve_job] = scenario.retrieve_jobs
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
    assert downloaded == {file.path: file.content() for file in scenario.files}
    lifecycle = stack.scicat.dataset(pid)["datasetlifecycle"]
    assert lifecycle["retrieveStatusMessage"] == "datasetRetrieved"


def test_two_concurrent_retrieve_jobs_copy_the_dataset_once(jobs, daemon_instance, user):
    scenario = jobs["two_retrieves"]
    [pid] = scenario.pids
    assert final_status(user, scenario.archive_job)[0] == "finishedSuccessful"

    outcomes = [final_status(user, job_id) for job_id in scenario.retrieve_jobs]

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
    first, second = (job_result(user, job_id) for job_id in scenario.retrieve_jobs)
    assert first[0]["archiveId"] == second[0]["archiveId"]


def test_run_workers_are_forked_only_by_the_forked_launcher(jobs, daemon_instance, services):
    runs = runs_of_job(daemon_instance, jobs["two_datasets"].archive_job)
    forked = isinstance(daemon_instance.run_launcher, ForkedRunLauncher)

    assert len(runs) == 2
    for run in runs:
        worker = WorkerProcess.from_tags(run.tags)
        assert (worker is not None) == forked
        if worker is not None:
            assert worker.on_this_host and not worker.is_running()  # the run has ended
            messages = [e.message for e in daemon_instance.all_logs(run.run_id)]
            assert f"[ForkedRunLauncher] Forked the run worker, pid {worker.pid}." in messages
            assert f"Started process for run (pid: {worker.pid})." in messages
