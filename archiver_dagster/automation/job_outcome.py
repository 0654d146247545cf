"""From the runs of a SciCat job to its final status and a message a person can read."""

from dataclasses import dataclass
from enum import StrEnum

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from archiver_dagster.automation.run_failures import describe_failure
from archiver_dagster.automation.run_kinds import run_kind
from archiver_dagster.errors import ErrorKind, bounded_list
from archiver_dagster.scicat.job_api import JobStatus
from archiver_dagster.tags import CLEANED_UP_TAG, JOB_ID_TAG, PARTITION_TAG

MAX_MESSAGE_CHARS = 4000


class DatasetState(StrEnum):
    """Where one dataset of a job stands."""

    WAITING = "waiting"  # no run yet, or its latest run has not finished
    SUCCEEDED = "succeeded"
    USER_ERROR = "user error"
    SYSTEM_ERROR = "system error"


@dataclass(frozen=True)
class DatasetOutcome:
    """The latest run's result for one dataset of a job."""

    pid: str
    state: DatasetState
    message: str = ""
    run_id: str | None = None


def job_runs(instance: DagsterInstance, job_id: str) -> list[DagsterRun]:
    """The job's runs (re-executions included once adopted by the sensor), newest first."""
    records = instance.get_run_records(filters=RunsFilter(tags={JOB_ID_TAG: job_id}))
    ordered = sorted(records, key=lambda record: record.create_timestamp, reverse=True)
    return [record.dagster_run for record in ordered]


def awaits_cleanup(instance: DagsterInstance, run: DagsterRun) -> bool:
    """Whether a failed dataset run has not yet been reported and cleaned up."""
    return (
        run.status != DagsterRunStatus.SUCCESS
        and CLEANED_UP_TAG not in run.tags
        and run_kind(instance, run) is not None
    )


def dataset_outcomes(
    instance: DagsterInstance, runs: list[DagsterRun], pids: list[str]
) -> list[DatasetOutcome]:
    """Per dataset of the job, the outcome of its latest run (`runs` newest first)."""
    latest: dict[str, DagsterRun] = {}
    for run in runs:
        latest.setdefault(run.tags.get(PARTITION_TAG, ""), run)
    outcomes = []
    for pid in pids:
        latest_run = latest.get(pid)
        if latest_run is None or not latest_run.is_finished or awaits_cleanup(instance, latest_run):
            outcomes.append(DatasetOutcome(pid, DatasetState.WAITING))
        elif latest_run.status == DagsterRunStatus.SUCCESS:
            outcomes.append(DatasetOutcome(pid, DatasetState.SUCCEEDED, run_id=latest_run.run_id))
        else:
            kind, message = describe_failure(instance, latest_run)
            state = DatasetState.USER_ERROR if kind is ErrorKind.USER else DatasetState.SYSTEM_ERROR
            outcomes.append(DatasetOutcome(pid, state, message, latest_run.run_id))
    return outcomes


def job_verdict(job_type: str, outcomes: list[DatasetOutcome]) -> tuple[JobStatus, str] | None:
    """The job's final status and message, or None while any dataset is still waiting."""
    if not outcomes or any(o.state is DatasetState.WAITING for o in outcomes):
        return None
    failed = [o for o in outcomes if o.state is not DatasetState.SUCCEEDED]
    if not failed:
        return JobStatus.FINISHED_SUCCESSFUL, f"{job_type} of {len(outcomes)} datasets succeeded"
    if all(o.state is DatasetState.USER_ERROR for o in failed):
        status = JobStatus.FINISHED_WITH_DATASET_ERRORS
    else:
        status = JobStatus.FINISHED_UNSUCCESSFUL
    # The first few failures in full, then a count: SciCat and the UI keep messages short.
    details = bounded_list([f"{o.pid}: {o.state.value}: {o.message}" for o in failed])
    message = f"{len(failed)} of {len(outcomes)} datasets failed: {details}"
    return status, message[:MAX_MESSAGE_CHARS]
