"""`scicat_job_status_sensor`: reports each SciCat job's outcome once all its runs finished."""

import time
from datetime import UTC, datetime

from dagster import DefaultSensorStatus, RunsFilter, SensorEvaluationContext, SkipReason, sensor

from archiver_dagster.automation.backoff import RetryState, after_failure
from archiver_dagster.automation.cursors import JsonCursor
from archiver_dagster.automation.job_outcome import (
    DatasetState,
    dataset_outcomes,
    job_runs,
    job_verdict,
)
from archiver_dagster.retrieval.results import describe_links, download_entries
from archiver_dagster.scicat.client import SciCatClient, SciCatError, SciCatNotFoundError
from archiver_dagster.scicat.job_api import JobStatus, JobType, get_job, update_job
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.settings import definition_time_int
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster.tags import JOB_ID_TAG, JOB_REPORTED_TAG, JOB_TYPE_TAG, job_run_tags


class StatusCursor(JsonCursor):
    """Runs updated after `updated_after` are looked at; `pending` jobs are re-checked.

    `backoff` holds jobs SciCat refused to read or update, tried again when due.
    """

    updated_after: float = 0.0
    pending: list[str] = []
    backoff: dict[str, RetryState] = {}


def touched_jobs(context: SensorEvaluationContext, since: float) -> tuple[set[str], float]:
    """SciCat job ids whose runs changed after `since`, and the newest change seen.

    A re-execution launched from the UI need not carry our tags; it is adopted here (tagged
    with its root run's SciCat job) so that the job's outcome and the UI both include it.
    """
    records = context.instance.get_run_records(
        filters=RunsFilter(updated_after=datetime.fromtimestamp(since, UTC))
    )
    jobs: set[str] = set()
    newest = since
    for record in records:
        newest = max(newest, record.update_timestamp.timestamp())
        run = record.dagster_run
        job_id = run.tags.get(JOB_ID_TAG)
        if job_id is None and run.root_run_id:
            root = context.instance.get_run_by_id(run.root_run_id)
            if root is not None and JOB_ID_TAG in root.tags:
                job_id = root.tags[JOB_ID_TAG]
                adopted = job_run_tags(job_id, root.tags.get(JOB_TYPE_TAG, ""))
                context.instance.add_run_tags(run.run_id, adopted)
        if job_id:
            jobs.add(job_id)
    return jobs, newest


def report_job(
    context: SensorEvaluationContext,
    client: SciCatClient,
    bucket: RetrievalBucketResource,
    job_id: str,
) -> bool:
    """Sends the job's final status if all its datasets finished; returns False if it must wait."""
    try:
        job = get_job(client, job_id)
    except SciCatNotFoundError:
        context.log.warning(f"SciCat job {job_id} no longer exists; its runs are not reported")
        return True
    if job.status == JobStatus.SUBMITTED:
        return False  # the intake sensor marks it inProgress first
    runs = job_runs(context.instance, job_id)
    outcomes = dataset_outcomes(context.instance, runs, [e.pid for e in job.datasets()])
    verdict = job_verdict(job.type, outcomes)
    if verdict is None:
        return False
    status, message = verdict
    if (job.status, job.message) != (status.value, message):
        result = None
        links = ""
        if job.type == JobType.RETRIEVE:
            retrieved = [o.pid for o in outcomes if o.state is DatasetState.SUCCEEDED]
            signed_at = datetime.now(UTC)
            entries, gone = download_entries(client, bucket, retrieved)
            for pid in gone:
                context.log.warning(f"SciCat job {job_id}: dataset {pid} no longer exists")
            result = {"result": entries}
            links = f"; {describe_links(entries, signed_at + bucket.link_validity)}"
        update_job(client, job_id, status, message, result)
        context.log.info(f"SciCat job {job_id}: {status.value}: {message}{links}")
    if runs and JOB_REPORTED_TAG not in runs[0].tags:
        # Marks the attempt reported, so that a job set back to submitted later runs again.
        context.instance.add_run_tags(runs[0].run_id, {JOB_REPORTED_TAG: status.value})
    return True


@sensor(
    name="scicat_job_status_sensor",
    minimum_interval_seconds=definition_time_int("ARCHIVER_SENSOR_INTERVAL_S"),
    default_status=DefaultSensorStatus.RUNNING,
    description="Reports each SciCat job's final status (and a retrieve job's download links).",
)
def scicat_job_status_sensor(
    context: SensorEvaluationContext,
    scicat: SciCatResource,
    retrieval_bucket: RetrievalBucketResource,
) -> SkipReason | None:
    """Watches the runs of every SciCat job, whatever launched or re-executed them."""
    cursor = StatusCursor.parse(context.cursor)
    touched, newest = touched_jobs(context, cursor.updated_after)
    now = time.time()
    candidates = sorted(touched | set(cursor.pending) | set(cursor.backoff))
    due = [job_id for job_id in candidates if cursor.backoff.get(job_id, RetryState()).due(now)]
    if not due:
        context.update_cursor(cursor.model_copy(update={"updated_after": newest}).model_dump_json())
        return SkipReason("no SciCat job has runs that changed")
    pending: list[str] = [job_id for job_id in candidates if job_id not in due]
    backoff = {job_id: state for job_id, state in cursor.backoff.items() if job_id not in due}
    with scicat.tick_session() as client:
        for job_id in due:
            try:
                if not report_job(context, client, retrieval_bucket, job_id):
                    pending.append(job_id)
            except (SciCatError, ValueError) as error:  # this job only: the others go on
                state = after_failure(cursor.backoff.get(job_id, RetryState()), now, str(error))
                backoff[job_id] = state
                context.log.warning(
                    f"cannot report SciCat job {job_id} (attempt {state.attempts}, next try in "
                    f"{state.retry_at - now:.0f} s): {state.last_error}"
                )
    pending = sorted(set(pending) - set(backoff))
    updated = StatusCursor(updated_after=newest, pending=pending, backoff=backoff)
    context.update_cursor(updated.model_dump_json())
    return None
