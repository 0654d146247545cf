"""A run worker killed while it holds the only `lts_free_space` slot stops nothing for long.

With the daemon, the code server and run monitoring as configured in the repository's
dagster.yaml (intervals shortened), a SIGKILLed worker ends as a failed run, its pool slot is
freed, its SciCat job gets a final status, and the next job archives. A terminated run ends
canceled the same way. The LTS is a small tmpfs that a filler file keeps full, so the run waits
in `wait_for_lts_space`, holding the slot. Both with Dagster's default run launcher (the code
server notices its worker died) and with `ForkedRunLauncher` (run monitoring asks it).
"""

import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from archiver_dagster.launcher.forked import ForkedRunLauncher
from archiver_dagster_tests.automation.conftest import SciCatUser
from archiver_dagster_tests.automation.daemon_home import daemon_home, forked_launcher_yaml
from archiver_dagster_tests.conftest import TMPFS_BYTES
from archiver_dagster_tests.helpers import archive_status, wait_until
from devstack.demo import REPO_DAGSTER_YAML, open_instance
from devstack.services import DagsterServices
from devstack.stack import LocalStack

TIMEOUT_S = 180.0


# How the run's failure reads in SciCat when its worker was SIGKILLed, per run launcher.
KILLED_WORKER_REASON = {
    "default": "was terminated by signal 9 (SIGKILL)",
    "forked": "has ended without finishing the run",
}


@pytest.fixture(params=sorted(KILLED_WORKER_REASON))
def services(
    request, stack: LocalStack, tmpfs: Path, memory_dir: Path
) -> Iterator[DagsterServices]:
    home = daemon_home(
        memory_dir / f"dead_run_worker_{request.param}",
        forked_launcher_yaml() if request.param == "forked" else None,
        run_monitoring={"poll_interval_seconds": 1, "free_slots_after_run_end_seconds": 1},
    )
    env = {
        **os.environ,
        "ARCHIVER_SENSOR_INTERVAL_S": "1",
        "LTS_STORAGE_ROOT": str(tmpfs),
        "LTS_FREE_SPACE_PERCENTAGE": "10",
    }
    with DagsterServices(home, env) as running:
        yield running


def run_worker_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The process executing the run, as the code server logged it when it started it."""
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message or "")
        if found:
            return int(found.group(1))
    return None


def slot_holder(instance: DagsterInstance) -> str | None:
    """The run holding the `lts_free_space` slot, if any."""
    info = instance.event_log_storage.get_concurrency_info("lts_free_space")
    return next(iter(info.active_run_ids), None)


def final_status(user: SciCatUser, job_id: str) -> tuple[str, str | None]:
    def finished() -> tuple[str, str | None] | None:
        status = user.status(3, job_id)
        return status if status[0].startswith("finished") else None

    return wait_until(finished, TIMEOUT_S, what=f"SciCat job {job_id} to finish")


@dataclass
class StuckJob:
    """A SciCat job whose one run waits for LTS space, which a filler file keeps taken."""

    user: SciCatUser
    pid: str
    job_id: str
    filler: Path


def stuck_job(stack: LocalStack, tmpfs: Path, seed_dataset, unique_pid) -> StuckJob:
    """Fills the tmpfs LTS (2 MiB left: below the 10 % margin, nothing fits), then submits."""
    filler = tmpfs / "filler"
    with filler.open("wb") as out:
        os.posix_fallocate(out.fileno(), 0, TMPFS_BYTES - 2 * 1024 * 1024)
    user = SciCatUser(stack.scicat)
    pid = unique_pid()
    seed_dataset(pid)
    return StuckJob(user=user, pid=pid, job_id=user.job(3, [pid]), filler=filler)


def waiting_run(instance: DagsterInstance) -> tuple[str, int]:
    """The run that holds the `lts_free_space` slot, waiting, and its worker's pid."""
    run_id = wait_until(lambda: slot_holder(instance), TIMEOUT_S, what="a run in the wait")
    pid = wait_until(lambda: run_worker_pid(instance, run_id), 30.0, what="its worker")
    return run_id, pid


def test_killed_run_worker_fails_its_run_frees_its_slot_and_the_next_job_archives(
    services, stack, tmpfs, seed_dataset, unique_pid
):
    repository = yaml.safe_load(REPO_DAGSTER_YAML.read_text())["run_monitoring"]
    assert repository["enabled"] and repository["free_slots_after_run_end_seconds"] > 0
    stuck = stuck_job(stack, tmpfs, seed_dataset, unique_pid)
    user = stuck.user

    with open_instance(services.home) as instance:
        run_id, pid = waiting_run(instance)
        os.kill(pid, signal.SIGKILL)

        assert final_status(user, stuck.job_id)[0] == "finishedUnsuccessful"
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == DagsterRunStatus.FAILURE
        assert archive_status(stack, stuck.pid) == "scheduleArchiveJobFailed"
        reason = stack.scicat.dataset(stuck.pid)["datasetlifecycle"]["archiveReturnMessage"]
        launcher = "forked" if isinstance(instance.run_launcher, ForkedRunLauncher) else "default"
        assert KILLED_WORKER_REASON[launcher] in reason["message"], reason
        wait_until(lambda: slot_holder(instance) is None, 60.0, what="the slot to be freed")

        stuck.filler.unlink()
        fine = unique_pid()
        seed_dataset(fine)
        status, message = final_status(user, user.job(3, [fine]))
        assert status == "finishedSuccessful", message
        archived = instance.get_runs(filters=RunsFilter(tags={"dagster/partition": fine}))
        assert [r.status for r in archived] == [DagsterRunStatus.SUCCESS]
    assert archive_status(stack, fine) == "datasetOnArchiveDisk"


def test_terminated_run_ends_canceled_and_frees_its_slot(
    services, stack, tmpfs, seed_dataset, unique_pid
):
    stuck = stuck_job(stack, tmpfs, seed_dataset, unique_pid)

    with open_instance(services.home) as instance:
        run_id, _ = waiting_run(instance)

        assert instance.run_launcher.terminate(run_id)

        status, message = final_status(stuck.user, stuck.job_id)
        assert status == "finishedUnsuccessful", message
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == DagsterRunStatus.CANCELED
        reason = stack.scicat.dataset(stuck.pid)["datasetlifecycle"]["archiveReturnMessage"]
        assert "run canceled by an operator" in reason["message"], reason
        wait_until(lambda: slot_holder(instance) is None, 60.0, what="the slot to be freed")
        assert not instance.run_launcher.terminate(run_id)  # it has ended
    stuck.filler.unlink()
