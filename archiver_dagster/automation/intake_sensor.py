"""`scicat_jobs_sensor`: turns SciCat archive (and retrieve) jobs into one run per dataset."""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from archiver_dagster.archival.jobs import ARCHIVE_JOB_NAME, archive_dataset_job
from archiver_dagster.automation.intake import IntakeCursor, plan_intake
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.retrieval.jobs import RETRIEVE_JOB_NAME, retrieve_dataset_job
from archiver_dagster.scicat.jobs import JobStatus, JobType, SciCatJob, list_jobs, update_job
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.settings import definition_time_int
from archiver_dagster.tags import JOB_ID_TAG, job_run_key, job_run_tags

# The Dagster job that serves each SciCat job type.
JOB_NAME_BY_TYPE: dict[str, str] = {
    JobType.ARCHIVE.value: ARCHIVE_JOB_NAME,
    JobType.RETRIEVE.value: RETRIEVE_JOB_NAME,
}


def run_requests_for(job: SciCatJob) -> list[RunRequest]:
    """One run per dataset, keyed by job id + PID so that nothing ever launches twice."""
    return [
        RunRequest(
            run_key=job_run_key(job.id, entry.pid),
            job_name=JOB_NAME_BY_TYPE[job.type],
            partition_key=entry.pid,
            tags=job_run_tags(job.id, job.type),
        )
        for entry in job.datasets()
    ]


def jobs_with_runs(context: SensorEvaluationContext, jobs: list[SciCatJob]) -> set[str]:
    """Ids of the given jobs that already have at least one run."""
    return {
        job.id
        for job in jobs
        if context.instance.get_run_records(filters=RunsFilter(tags={JOB_ID_TAG: job.id}), limit=1)
    }


@sensor(
    name="scicat_jobs_sensor",
    jobs=[archive_dataset_job, retrieve_dataset_job],
    minimum_interval_seconds=definition_time_int("ARCHIVER_SENSOR_INTERVAL_S"),
    default_status=DefaultSensorStatus.RUNNING,
    description="Polls SciCat for submitted archive/retrieve jobs; one run per dataset.",
)
def scicat_jobs_sensor(context: SensorEvaluationContext, scicat: SciCatResource) -> SensorResult:
    """Launches runs for new jobs, rejects invalid ones, marks launched ones `inProgress`.

    A job is marked `inProgress` only once its runs exist (the tick after they were
    requested): a daemon crash in between can neither lose a job nor launch it twice.
    """
    cursor = IntakeCursor.parse(context.cursor)
    client = scicat.client()
    try:
        submitted = [
            job
            for job_type in JobType
            for job in list_jobs(
                client, job_type, scicat.job_submitted_status, scicat.jobs_page_size
            )
        ]
        plan = plan_intake(
            submitted, cursor, set(JOB_NAME_BY_TYPE), jobs_with_runs(context, submitted)
        )
        for job, problem in plan.reject:
            context.log.warning(f"rejecting SciCat job {job.id}: {problem}")
            update_job(client, job.id, JobStatus.FINISHED_UNSUCCESSFUL, f"Job rejected: {problem}")
        for job in plan.confirm:
            count = len(job.datasets())
            update_job(
                client, job.id, JobStatus.IN_PROGRESS, f"{job.type} of {count} datasets started"
            )
    finally:
        client.close()
    run_requests = [request for job in plan.launch for request in run_requests_for(job)]
    pids = sorted({request.partition_key for request in run_requests if request.partition_key})
    still_waiting = {job.id for job in plan.wait}
    requested = {
        **{job_id: pids_ for job_id, pids_ in cursor.requested.items() if job_id in still_waiting},
        **{job.id: [entry.pid for entry in job.datasets()] for job in plan.launch},
    }
    if plan.launch:
        context.log.info(
            f"launching {len(run_requests)} runs for jobs {[j.id for j in plan.launch]}"
        )
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[datasets_partitions.build_add_request(pids)] if pids else [],
        cursor=IntakeCursor(requested=requested).model_dump_json(),
    )
