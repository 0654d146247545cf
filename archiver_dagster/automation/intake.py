"""Deciding what to do with SciCat jobs waiting for the archiver (no Dagster calls here)."""

from dataclasses import dataclass, field

from archiver_dagster.automation.cursors import JsonCursor
from archiver_dagster.partitions import InvalidPidError, validate_pid, validate_retrievable_pid
from archiver_dagster.scicat.jobs import JobType, SciCatJob


class IntakeCursor(JsonCursor):
    """Jobs whose runs were requested but which are not yet marked `inProgress` in SciCat."""

    requested: dict[str, list[str]] = {}


def job_problem(job: SciCatJob) -> str | None:
    """Why the archiver cannot run this job, or None if it can."""
    if job.type not in {job_type.value for job_type in JobType}:
        return f"unknown job type {job.type!r}"
    try:
        entries = job.datasets()
    except ValueError as error:
        return str(error)
    pids = [entry.pid for entry in entries]
    # Datasets archived before the layout-segment rule of `validate_pid` stay retrievable.
    validate = validate_retrievable_pid if job.type == JobType.RETRIEVE else validate_pid
    for pid in pids:
        try:
            validate(pid)
        except InvalidPidError as error:
            return f"invalid PID in datasetList: {error}"
    if len(set(pids)) != len(pids):
        return "datasetList names a dataset more than once"
    return None


@dataclass
class IntakePlan:
    """One tick's decisions."""

    launch: list[SciCatJob] = field(default_factory=list)
    reject: list[tuple[SciCatJob, str]] = field(default_factory=list)
    confirm: list[SciCatJob] = field(default_factory=list)
    wait: list[SciCatJob] = field(default_factory=list)


def plan_intake(
    jobs: list[SciCatJob], cursor: IntakeCursor, launchable: set[str], has_runs: set[str]
) -> IntakePlan:
    """Sorts submitted jobs into: launch now, reject, confirm (runs exist), wait.

    `launchable`: job types with a pipeline in this code location; others wait untouched.
    `has_runs`: ids of jobs that already have runs in the instance.
    """
    plan = IntakePlan()
    for job in jobs:
        if job.id in cursor.requested or job.id in has_runs:
            (plan.confirm if job.id in has_runs else plan.wait).append(job)
            continue
        problem = job_problem(job)
        if problem is not None:
            plan.reject.append((job, problem))
        elif job.type in launchable:
            plan.launch.append(job)
        else:
            plan.wait.append(job)
    return plan
