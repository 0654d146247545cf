"""The nightly fixity audit: what it chooses on a real instance, and the runs it requests."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from dagster import (
    DefaultScheduleStatus,
    Definitions,
    OpDefinition,
    build_schedule_context,
)

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.definitions import build_resources
from archiver_dagster.fixity import audit_schedule
from archiver_dagster.fixity.audit_schedule import (
    AUDIT_JOB_NAME,
    AUDIT_TAG,
    fixity_audit_job,
    fixity_audit_schedule,
    plan_audits,
)
from archiver_dagster.fixity.checks import fixity_checks
from archiver_dagster_tests.deploy.files import env_example
from archiver_dagster_tests.fixity.helpers import archive_checked, evaluations, meta
from archiver_dagster_tests.helpers import lts
from devstack.stack import LocalStack

DAY = 86400.0


def _archive_three(stack, instance, seed_dataset, unique_pid) -> list[str]:
    pids = [unique_pid() for _ in range(3)]
    for pid in pids:
        seed_dataset(pid)
        assert archive_checked(instance, pid, {"lts": lts(stack)}).success
    return pids


def _bytes(instance, pid: str) -> int:
    return audit_schedule.dataset_bytes(instance, pid)


def test_every_dataset_is_due_after_the_period_oldest_first_within_the_budget(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pids = _archive_three(stack, instance, seed_dataset, unique_pid)
    sizes = [_bytes(instance, pid) for pid in pids]
    assert all(sizes)

    assert plan_audits(instance, time.time(), 90, 10**12).chosen == []
    later = time.time() + 90 * DAY + 60
    everything = plan_audits(instance, later, 90, 10**12)
    assert everything.chosen == pids
    assert everything.bytes == sum(sizes)
    two = plan_audits(instance, later, 90, sizes[0] + sizes[1])
    assert (two.chosen, two.overdue_left) == (pids[:2], 1)


def test_the_schedule_requests_one_low_priority_audit_run_per_due_dataset(
    stack: LocalStack, sqlite_instance, seed_dataset, unique_pid, monkeypatch: pytest.MonkeyPatch
):
    instance = sqlite_instance  # a schedule's context needs an instance it can refer to
    pids = _archive_three(stack, instance, seed_dataset, unique_pid)
    monkeypatch.setenv("ARCHIVER_AUDIT_BYTES_PER_RUN", str(_bytes(instance, pids[0])))
    night = datetime.now(UTC) + timedelta(days=91)

    with build_schedule_context(instance=instance, scheduled_execution_time=night) as context:
        requests = fixity_audit_schedule(context)

    [request] = requests  # the budget holds one dataset: the oldest
    assert request.run_key == f"audit:{night:%Y-%m-%d}:{pids[0]}"
    assert request.tags == {
        "dagster/partition": pids[0],
        AUDIT_TAG: f"{night:%Y-%m-%d}",
        "dagster/priority": "-1",
    }

    # The audit run: the two checks alone, reading in pool lts_read; then the dataset's turn
    # comes last.
    job = Definitions(
        assets=archival_assets,
        asset_checks=fixity_checks,
        jobs=[fixity_audit_job],
        resources={**build_resources(), "lts": lts(stack)},
    ).resolve_job_def(AUDIT_JOB_NAME)
    pools = {n.name: n.pool for n in job.all_node_defs if isinstance(n, OpDefinition)}
    assert pools == {
        "verified_datablocks_lts_copies_intact": "lts_read",
        "verified_datablocks_scicat_consistent": None,
    }
    result = job.execute_in_process(instance=instance, tags=request.tags)
    intact = evaluations(result)["lts_copies_intact"]
    assert intact.passed
    assert meta(intact, "source") == "read back from the LTS media"
    later = night.timestamp() + 60
    assert plan_audits(instance, later, 90, 10**12).chosen == [pids[1], pids[2], pids[0]]


def test_the_schedule_is_on_in_production_and_off_in_the_demo(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
):
    assert env_example()["ARCHIVER_AUDIT_SCHEDULE"] == "on"
    assert stack.env()["ARCHIVER_AUDIT_SCHEDULE"] == "off"
    monkeypatch.setenv("ARCHIVER_AUDIT_SCHEDULE", "on")
    assert audit_schedule._default_status() is DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("ARCHIVER_AUDIT_SCHEDULE", "off")
    assert audit_schedule._default_status() is DefaultScheduleStatus.STOPPED
