"""`archiver_alert_sensor`: posts an alert for each failed audit, dataset error and failed job.

A reconciliation like the cleanup sensor: it reads what the instance holds (failed dataset and
audit runs, SciCat jobs reported `finishedUnsuccessful`, failed check evaluations) since its
cursor, posts once per item and marks it (a run tag, the cursor), so nothing is posted twice
and the other sensors never wait for a webhook.
"""

import time
from datetime import UTC, datetime

from dagster import (
    AssetCheckKey,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from archiver_dagster.archival.assets import VERIFIED_DATABLOCKS_KEY
from archiver_dagster.automation.cursors import JsonCursor
from archiver_dagster.automation.job_outcome import dataset_outcomes, job_runs, job_verdict
from archiver_dagster.automation.run_failures import describe_failure
from archiver_dagster.automation.run_kinds import run_kind
from archiver_dagster.fixity.alerts import AlertResource
from archiver_dagster.fixity.audit_schedule import AUDIT_TAG
from archiver_dagster.fixity.checks import LTS_COPIES_INTACT, SCICAT_CONSISTENT
from archiver_dagster.scicat.job_api import JobStatus
from archiver_dagster.settings import definition_time_int
from archiver_dagster.tags import JOB_ID_TAG, JOB_REPORTED_TAG, JOB_TYPE_TAG, PARTITION_TAG

ALERTED_TAG = "archiver/alerted"
JOB_ALERTED_TAG = "archiver/job_alerted"
FAILED = [DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
PAGE = 100
CHECK_KEYS = [
    AssetCheckKey(VERIFIED_DATABLOCKS_KEY, name) for name in (LTS_COPIES_INTACT, SCICAT_CONSISTENT)
]


class AlertCursor(JsonCursor):
    """Runs updated after `updated_after` and check evaluations after `check_storage_id`."""

    updated_after: float = 0.0
    check_storage_id: int = 0


def run_alert(context: SensorEvaluationContext, run: DagsterRun) -> str | None:
    """The alert for a failed dataset or audit run, None for any other run."""
    pid = run.tags.get(PARTITION_TAG, "")
    if run.status not in FAILED or ALERTED_TAG in run.tags:
        return None
    if AUDIT_TAG in run.tags:
        kind, message = describe_failure(context.instance, run)
        return (
            f"archiver: fixity audit of dataset {pid} could not run (run {run.run_id}): {message}"
        )
    if run_kind(context.instance, run) is None:
        return None
    kind, message = describe_failure(context.instance, run)
    return (
        f"archiver: dataset {pid}: {kind.value} error in {run.job_name} "
        f"(run {run.run_id}): {message}"
    )


def job_alert(context: SensorEvaluationContext, run: DagsterRun) -> str | None:
    """The alert for a SciCat job this run's attempt reported `finishedUnsuccessful`."""
    if run.tags.get(JOB_REPORTED_TAG) != JobStatus.FINISHED_UNSUCCESSFUL.value:
        return None
    if JOB_ALERTED_TAG in run.tags:
        return None
    job_id = run.tags.get(JOB_ID_TAG, "")
    runs = job_runs(context.instance, job_id)
    pids = sorted({r.tags[PARTITION_TAG] for r in runs if PARTITION_TAG in r.tags})
    verdict = job_verdict(
        run.tags.get(JOB_TYPE_TAG, ""), dataset_outcomes(context.instance, runs, pids)
    )
    detail = verdict[1] if verdict else "see its runs"
    return f"archiver: SciCat job {job_id} finished unsuccessfully: {detail}"


def check_alerts(context: SensorEvaluationContext, after: int) -> tuple[list[str], int]:
    """Alerts for check evaluations that failed after storage id `after`; the newest id seen."""
    texts: list[tuple[int, str]] = []
    newest = after
    for key in CHECK_KEYS:
        history = context.instance.event_log_storage.get_asset_check_execution_history(
            key, limit=PAGE, status={AssetCheckExecutionRecordStatus.FAILED}
        )
        for record in history:
            if record.id <= after:
                continue
            newest = max(newest, record.id)
            evaluation = record.event.dagster_event.asset_check_evaluation_data  # type: ignore[union-attr]
            texts.append(
                (
                    record.id,
                    f"archiver: fixity check {key.name} failed for dataset {record.partition} "
                    f"(run {record.run_id}): {evaluation.description}",
                )
            )
    return [text for _, text in sorted(texts)], newest


@sensor(
    name="archiver_alert_sensor",
    minimum_interval_seconds=definition_time_int("ARCHIVER_SENSOR_INTERVAL_S"),
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts failed audits, dataset errors and unsuccessful SciCat jobs to "
    "ARCHIVER_ALERT_WEBHOOK_URL.",
)
def archiver_alert_sensor(context: SensorEvaluationContext, alerts: AlertResource) -> SkipReason:
    """Posts each new alert once; a webhook that fails is a warning, never retried."""
    if not context.cursor:
        # The first tick starts from now: runs and checks that failed before the sensor existed
        # (an upgrade of a long-running deployment) are not posted all at once.
        _, newest_check = check_alerts(context, 0)
        start = AlertCursor(updated_after=time.time(), check_storage_id=newest_check)
        context.update_cursor(start.model_dump_json())
        return SkipReason("first tick: alerting from now on")
    cursor = AlertCursor.parse(context.cursor)
    records = context.instance.get_run_records(
        filters=RunsFilter(updated_after=datetime.fromtimestamp(cursor.updated_after, UTC)),
        order_by="update_timestamp",
        ascending=True,
        limit=PAGE,
    )
    posted = 0
    for record in records:
        cursor.updated_after = max(cursor.updated_after, record.update_timestamp.timestamp())
        run = record.dagster_run
        alerts_of_run = (
            (run_alert(context, run), ALERTED_TAG),
            (job_alert(context, run), JOB_ALERTED_TAG),
        )
        for text, tag in alerts_of_run:
            if text is None or not alerts.enabled:
                continue
            posted += alerts.post(text, context.log)
            context.instance.add_run_tags(run.run_id, {tag: "true"})
    texts, cursor.check_storage_id = check_alerts(context, cursor.check_storage_id)
    for text in texts if alerts.enabled else []:
        posted += alerts.post(text, context.log)
    context.update_cursor(cursor.model_dump_json())
    return SkipReason(f"{posted} alerts posted" if alerts.enabled else "no webhook configured")
