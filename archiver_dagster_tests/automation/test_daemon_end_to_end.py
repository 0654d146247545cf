"""End to end with the daemon: SciCat jobs in, runs launched by the sensor, job status out."""

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance, RunsFilter
from dagster._core.instance.ref import InstanceRef

from archiver_dagster.devstack.seed import sample_files
from archiver_dagster.devstack.services import DagsterServices
from archiver_dagster.devstack.stack import LocalStack
from archiver_dagster.pools import apply_pool_limits
from archiver_dagster_tests.automation.conftest import SciCatUser
from archiver_dagster_tests.helpers import archive_status, landing_zone_keys

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180.0


def wait_until(condition: Callable[[], object], timeout_s: float = TIMEOUT_S, what: str = ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def services(stack: LocalStack, tmp_path_factory) -> Iterator[DagsterServices]:
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        apply_pool_limits(instance, {"lts_write": 2, "lts_read": 2, "lts_free_space": 1})
    env = {**__import__("os").environ, "ARCHIVER_SENSOR_INTERVAL_S": "1"}
    with DagsterServices(home, env) as running:
        yield running


@pytest.fixture
def daemon_instance(services) -> Iterator[DagsterInstance]:
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(services.home))) as instance:
        yield instance


@pytest.fixture
def user(stack) -> SciCatUser:
    return SciCatUser(stack.scicat)


def final_status(user: SciCatUser, job_id: str) -> tuple[str, str | None]:
    def finished():
        status = user.status(3, job_id)
        return status if status[0].startswith("finished") else None

    return wait_until(finished, what=f"SciCat job {job_id} to finish")


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
    services.stop_daemon()
    time.sleep(2)
    services.start_daemon()

    status, message = final_status(user, job_id)

    assert status == "finishedSuccessful", message
    runs = runs_of_job()
    assert sorted(run.tags["dagster/partition"] for run in runs) == sorted(pids)
    for pid in pids:
        assert archive_status(stack, pid) == "datasetOnArchiveDisk"
