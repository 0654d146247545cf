"""Deciding what to do with SciCat jobs waiting for the archiver (no Dagster calls here)."""

from dataclasses import dataclass, field

from pydantic import BaseModel

from archiver_dagster.automation.backoff import RetryState
from archiver_dagster.automation.cursors import JsonCursor
from archiver_dagster.partitions import InvalidPidError, validate_pid, validate_retrievable_pid
from archiver_dagster.scicat.job_api import JobType, SciCatJob


class Launch(BaseModel):
    """A job whose runs are being requested over several ticks: what is left to request."""

    job_type: str
    attempt: int
    pids: list[str]  # the job's datasets, in the job's order
    requested: int = 0  # how many of them have had their run requested


class IntakeCursor(JsonCursor):
    """What the intake sensor carries from tick to tick.

    `requested`: jobs whose runs were requested, not yet confirmed `inProgress`; `launching`:
    jobs whose runs are requested over several ticks, in the order they were accepted;
    `backoff`: jobs SciCat refused to update.
    """

    requested: dict[str, list[str]] = {}
    launching: dict[str, Launch] = {}
    backoff: dict[str, RetryState] = {}


@dataclass(frozen=True)
class LaunchSlice:
    """Datasets of one job whose runs this tick requests."""

    job_id: str
    job_type: str
    attempt: int
    pids: list[str]


def fair_shares(remaining: list[int], budget: int) -> list[int]:
    """Splits `budget` runs among jobs with `remaining` runs each, one at a time in turn.

    Every job with runs left gets one before any gets a second, oldest job first, so a job is
    never kept waiting behind a larger one accepted before it.
    """
    shares = [0] * len(remaining)
    while budget > 0:
        gave = False
        for index, left in enumerate(remaining):
            if budget > 0 and shares[index] < left:
                shares[index] += 1
                budget -= 1
                gave = True
        if not gave:
            break
    return shares


def take_launch_slices(cursor: IntakeCursor, budget: int) -> list[LaunchSlice]:
    """Up to `budget` datasets' runs, shared in turn among the jobs being launched.

    Each job being launched gets its next datasets in the job's order (`fair_shares`), so
    every accepted job has runs, and is marked `inProgress`, within a tick or two of its
    acceptance, however large the jobs before it; nothing is lost between ticks, and the run
    keys make a slice requested twice (a tick whose cursor was not saved) harmless.
    """
    launches = list(cursor.launching.items())
    remaining = [len(launch.pids) - launch.requested for _, launch in launches]
    slices: list[LaunchSlice] = []
    for (job_id, launch), share in zip(launches, fair_shares(remaining, budget), strict=True):
        if share > 0:
            pids = launch.pids[launch.requested : launch.requested + share]
            slices.append(LaunchSlice(job_id, launch.job_type, launch.attempt, pids))
            launch.requested += share
        if launch.requested >= len(launch.pids):
            del cursor.launching[job_id]
    return slices


@dataclass(frozen=True)
class JobRuns:
    """What the instance holds for a job's latest attempt: did its runs end, was it reported."""

    attempt: int
    all_finished: bool
    reported: bool = False


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
    """One tick's decisions; `launch` maps each job to launch to its attempt number."""

    launch: list[tuple[SciCatJob, int]] = field(default_factory=list)
    reject: list[tuple[SciCatJob, str]] = field(default_factory=list)
    confirm: list[SciCatJob] = field(default_factory=list)
    wait: list[SciCatJob] = field(default_factory=list)


def plan_intake(
    jobs: list[SciCatJob],
    cursor: IntakeCursor,
    launchable: set[str],
    runs: dict[str, JobRuns],
    now: float,
) -> IntakePlan:
    """Sorts submitted jobs into: launch now, reject, confirm (runs exist), wait.

    `launchable`: job types with a pipeline in this code location; others wait untouched.
    `runs`: for each job that has runs in the instance, its latest attempt.
    A job whose latest attempt ended and was reported final, yet is submitted again, was set
    back by an operator: it runs again as a new attempt (new run keys). A job with runs that
    was never reported is confirmed instead (its runs may simply have been quick). A job SciCat
    refused to update waits until its backoff has passed.
    """
    plan = IntakePlan()
    for job in jobs:
        state = cursor.backoff.get(job.id)
        if state is not None and not state.due(now):
            plan.wait.append(job)
            continue
        known = runs.get(job.id)
        reset = known is not None and known.all_finished and known.reported
        launching = job.id in cursor.launching or job.id in cursor.requested
        if launching or (known is not None and not reset):
            (plan.confirm if known is not None else plan.wait).append(job)
            continue
        problem = job_problem(job)
        if problem is not None:
            plan.reject.append((job, problem))
        elif job.type in launchable:
            plan.launch.append((job, known.attempt + 1 if known else 1))
        else:
            plan.wait.append(job)
    return plan
