"""`scicat_jobs_sensor`: turns SciCat archive (and retrieve) jobs into one run per dataset."""

import time

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME, archive_dataset_job
from archiver_dagster.automation.backoff import RetryState, after_failure
from archiver_dagster.automation.intake import (
    IntakeCursor,
    IntakePlan,
    JobRuns,
    Launch,
    LaunchSlice,
    plan_intake,
    take_launch_slices,
)
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.retrieval.dagster_job import RETRIEVE_JOB_NAME, retrieve_dataset_job
from archiver_dagster.scicat.client import SciCatClient, SciCatError
from archiver_dagster.scicat.job_api import JobStatus, JobType, SciCatJob, list_jobs, update_job
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.settings import definition_time_int
from archiver_dagster.tags import (
    JOB_ATTEMPT_TAG,
    JOB_ID_TAG,
    JOB_REPORTED_TAG,
    job_run_key,
    job_run_tags,
)

# The Dagster job that serves each SciCat job type.
JOB_NAME_BY_TYPE: dict[str, str] = {
    JobType.ARCHIVE.value: ARCHIVE_JOB_NAME,
    JobType.RETRIEVE.value: RETRIEVE_JOB_NAME,
}
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def run_requests_for(launch: LaunchSlice) -> list[RunRequest]:
    """One run per dataset, keyed by job id + PID (+ attempt) so nothing ever launches twice."""
    return [
        RunRequest(
            run_key=job_run_key(launch.job_id, pid, launch.attempt),
            job_name=JOB_NAME_BY_TYPE[launch.job_type],
            partition_key=pid,
            tags=job_run_tags(launch.job_id, launch.job_type, launch.attempt),
        )
        for pid in launch.pids
    ]


def runs_of_jobs(context: SensorEvaluationContext, jobs: list[SciCatJob]) -> dict[str, JobRuns]:
    """For each job with runs: its latest attempt and whether all of that attempt's runs ended."""
    found: dict[str, JobRuns] = {}
    for job in jobs:
        records = context.instance.get_run_records(filters=RunsFilter(tags={JOB_ID_TAG: job.id}))
        if not records:
            continue
        attempts = [int(r.dagster_run.tags.get(JOB_ATTEMPT_TAG, "1")) for r in records]
        latest = max(attempts)
        runs = [
            record.dagster_run
            for record, attempt in zip(records, attempts, strict=True)
            if attempt == latest
        ]
        found[job.id] = JobRuns(
            attempt=latest,
            all_finished=all(run.status in FINISHED for run in runs),
            reported=any(JOB_REPORTED_TAG in run.tags for run in runs),
        )
    return found


def submitted_jobs(
    context: SensorEvaluationContext, client: SciCatClient, scicat: SciCatResource
) -> list[SciCatJob]:
    """Every submitted job of our types; jobs the archiver cannot read are logged and skipped."""
    unreadable: list[str] = []
    jobs = [
        job
        for job_type in JobType
        for job in list_jobs(
            client, job_type, scicat.job_submitted_status, scicat.jobs_page_size, unreadable
        )
    ]
    for problem in unreadable:
        context.log.warning(f"skipping a SciCat job the archiver cannot read: {problem}")
    return jobs


def send_updates(
    context: SensorEvaluationContext,
    client: SciCatClient,
    plan: IntakePlan,
    cursor: IntakeCursor,
    now: float,
) -> IntakeCursor:
    """Rejects and confirms jobs one by one; a job SciCat refuses to update is backed off."""
    updates: list[tuple[SciCatJob, JobStatus, str]] = [
        (job, JobStatus.FINISHED_UNSUCCESSFUL, f"Job rejected: {problem}")
        for job, problem in plan.reject
    ]
    updates += [
        (job, JobStatus.IN_PROGRESS, f"{job.type} of {len(job.datasets())} datasets started")
        for job in plan.confirm
    ]
    backoff = dict(cursor.backoff)
    confirmed: set[str] = set()
    for job, status, message in updates:
        if status is JobStatus.FINISHED_UNSUCCESSFUL:
            context.log.warning(f"rejecting SciCat job {job.id}: {message}")
        try:
            update_job(client, job.id, status, message)
        except SciCatError as error:
            state = after_failure(backoff.get(job.id, RetryState()), now, str(error))
            backoff[job.id] = state
            context.log.warning(
                f"SciCat refused to set job {job.id} {status.value} (attempt {state.attempts}, "
                f"next try in {state.retry_at - now:.0f} s): {state.last_error}"
            )
            continue
        backoff.pop(job.id, None)
        if status is JobStatus.IN_PROGRESS:
            confirmed.add(job.id)
    requested = {k: v for k, v in cursor.requested.items() if k not in confirmed}
    return cursor.model_copy(update={"requested": requested, "backoff": backoff})


@sensor(
    name="scicat_jobs_sensor",
    jobs=[archive_dataset_job, retrieve_dataset_job],
    minimum_interval_seconds=definition_time_int("ARCHIVER_SENSOR_INTERVAL_S"),
    default_status=DefaultSensorStatus.RUNNING,
    description="Polls SciCat for submitted archive/retrieve jobs; one run per dataset.",
)
def scicat_jobs_sensor(context: SensorEvaluationContext, scicat: SciCatResource) -> SensorResult:
    """Launches runs for new jobs, rejects invalid ones, marks launched ones `inProgress`.

    A job is marked `inProgress` only once its runs exist (the tick after the first were
    requested): a daemon crash in between can neither lose a job nor launch it twice. At most
    `ARCHIVER_RUNS_PER_TICK` runs are requested per tick, so one job of thousands of datasets
    never makes a tick long (the daemon creates each run in the tick); the rest follow on the
    next ticks, shared in turn among the jobs being launched, so a small job is not kept waiting
    behind a large one. One job SciCat cannot read or refuses to update never holds up the
    others.
    """
    cursor = IntakeCursor.parse(context.cursor)
    now = time.time()
    with scicat.tick_session() as client:
        submitted = submitted_jobs(context, client, scicat)
        plan = plan_intake(
            submitted, cursor, set(JOB_NAME_BY_TYPE), runs_of_jobs(context, submitted), now
        )
        cursor = send_updates(context, client, plan, cursor, now)
    listed = {job.id for job in submitted}
    cursor.requested = {
        job_id: pids for job_id, pids in cursor.requested.items() if job_id in listed
    }
    cursor.backoff = {job_id: s for job_id, s in cursor.backoff.items() if job_id in listed}
    for job, attempt in plan.launch:
        pids = [entry.pid for entry in job.datasets()]
        cursor.launching[job.id] = Launch(job_type=job.type, attempt=attempt, pids=pids)
        cursor.requested[job.id] = pids
        again = f" again (attempt {attempt}: the job was set back to submitted)"
        context.log.info(
            f"launching {len(pids)} runs for SciCat job {job.id}" + (again if attempt > 1 else "")
        )
    slices = take_launch_slices(cursor, definition_time_int("ARCHIVER_RUNS_PER_TICK"))
    run_requests = [request for launch in slices for request in run_requests_for(launch)]
    pids = sorted({pid for launch in slices for pid in launch.pids})
    for job_id, launch in cursor.launching.items():
        context.log.info(
            f"SciCat job {job_id}: {launch.requested} of {len(launch.pids)} runs requested; "
            "the rest on the next ticks"
        )
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[datasets_partitions.build_add_request(pids)] if pids else [],
        cursor=cursor.model_dump_json(),
    )
