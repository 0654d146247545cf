"""`dataset_cleanup_sensor`: every failed or canceled dataset run is reported and cleaned up.

A reconciliation, not a reaction to events: Dagster moves a run-status sensor's cursor past a
run even when the sensor raises, so a cleanup that failed (SciCat down) would never be tried
again, and runs that failed while no daemon ran would never be seen. This sensor finds every
failed or canceled run of the dataset pipelines without the cleaned-up mark, cleans it up
idempotently, retries a failed cleanup with backoff until it succeeds, and does a bounded
amount of work per tick.
"""

import time
from datetime import UTC, datetime

from dagster import (
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from archiver_dagster.archival.cleanup import clean_up_failed_archival
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.automation.backoff import RetryState, after_failure
from archiver_dagster.automation.cleanup_plan import CleanupCursor, deferred, due
from archiver_dagster.automation.run_failures import describe_failure
from archiver_dagster.automation.run_kinds import RunKind, run_kind
from archiver_dagster.fixity.record import record_cleanup
from archiver_dagster.retrieval.cleanup import clean_up_failed_retrieval
from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.settings import definition_time_int
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster.tags import (
    CLEANED_UP_TAG,
    CLEANUP_ATTEMPTS_TAG,
    CLEANUP_ERROR_TAG,
    PARTITION_TAG,
)

FAILED_STATUSES = [DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
DISCOVERY_PAGE = 500


def discover(context: SensorEvaluationContext, cursor: CleanupCursor) -> float:
    """Adds failed or canceled dataset runs updated since the cursor; returns the newest update."""
    records = context.instance.get_run_records(
        filters=RunsFilter(
            statuses=FAILED_STATUSES,
            updated_after=datetime.fromtimestamp(cursor.updated_after, UTC),
        ),
        order_by="update_timestamp",
        ascending=True,
        limit=DISCOVERY_PAGE,
    )
    newest = cursor.updated_after
    for record in records:
        newest = max(newest, record.update_timestamp.timestamp())
        run = record.dagster_run
        if needs_cleanup(context, run):
            cursor.pending.setdefault(run.run_id, RetryState())
    return newest


def needs_cleanup(context: SensorEvaluationContext, run: DagsterRun) -> bool:
    """A finished, unsuccessful run of a dataset pipeline that was not cleaned up yet."""
    return (
        run.status in FAILED_STATUSES
        and CLEANED_UP_TAG not in run.tags
        and run_kind(context.instance, run) is not None
    )


def busy_with_another_run(context: SensorEvaluationContext, run: DagsterRun) -> str | None:
    """The id of another queued or running run of the same dataset, if there is one."""
    records = context.instance.get_run_records(
        filters=RunsFilter(
            tags={PARTITION_TAG: run.tags[PARTITION_TAG]}, statuses=NOT_FINISHED_STATUSES
        ),
        limit=2,
    )
    others = [record.dagster_run.run_id for record in records]
    return next((run_id for run_id in others if run_id != run.run_id), None)


class Cleaner:
    """Cleans up one failed run with the sensor's resources and the tick's SciCat client.

    The client logs in on its first request, so a tick with nothing to clean up never does.
    """

    def __init__(
        self,
        context: SensorEvaluationContext,
        client: SciCatClient,
        landing_zone: LandingZoneResource,
        lts: LTSResource,
        packing: PackingResource,
        retrieval_bucket: RetrievalBucketResource,
    ) -> None:
        self.context = context
        self.client = client
        self.landing_zone = landing_zone
        self.lts = lts
        self.packing = packing
        self.retrieval_bucket = retrieval_bucket

    def clean_up(self, run: DagsterRun) -> object:
        """Reports the run's failure on its dataset and removes what it left; returns a report."""
        instance = self.context.instance
        kind_of_run = run_kind(instance, run)
        pid = run.tags[PARTITION_TAG]
        kind, message = describe_failure(instance, run)
        if kind_of_run is RunKind.ARCHIVE:
            return clean_up_failed_archival(
                pid, kind, message, self.client, self.landing_zone, self.lts, self.packing
            )
        return clean_up_failed_retrieval(
            pid,
            run.run_id,
            kind,
            message,
            self.client,
            self.retrieval_bucket,
            self.lts.dataset_layout,
        )


def process(cleaner: Cleaner, cursor: CleanupCursor, run_id: str, now: float) -> None:
    """One cleanup attempt for `run_id`, updating the cursor with its outcome."""
    context = cleaner.context
    run = context.instance.get_run_by_id(run_id)
    if run is None or not needs_cleanup(context, run):
        cursor.pending.pop(run_id, None)
        return
    entry = cursor.pending[run_id]
    other = busy_with_another_run(context, run)
    if other is not None:
        context.log.info(f"cleanup of run {run_id} waits: run {other} of the dataset is active")
        cursor.pending[run_id] = deferred(entry, now)
        return
    try:
        report = cleaner.clean_up(run)
    except Exception as error:  # any failure: keep the run pending and try again later
        failed = after_failure(entry, now, f"{type(error).__name__}: {error}")
        cursor.pending[run_id] = failed
        context.instance.add_run_tags(
            run_id,
            {CLEANUP_ATTEMPTS_TAG: str(failed.attempts), CLEANUP_ERROR_TAG: failed.last_error},
        )
        context.log.warning(
            f"cleanup of run {run_id} failed (attempt {failed.attempts}), next try in "
            f"{failed.retry_at - now:.0f} s: {failed.last_error}"
        )
        return
    context.instance.add_run_tags(run_id, {CLEANED_UP_TAG: "true"})
    cursor.pending.pop(run_id, None)
    record_cleanup(context.instance, run_id, run.tags[PARTITION_TAG], report)  # audit trail
    context.log.info(f"run {run_id} of {run.tags[PARTITION_TAG]} cleaned up: {report}")


@sensor(
    name="dataset_cleanup_sensor",
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="Reports every failed or canceled dataset run to SciCat and cleans up after it.",
)
def dataset_cleanup_sensor(
    context: SensorEvaluationContext,
    scicat: SciCatResource,
    landing_zone: LandingZoneResource,
    lts: LTSResource,
    packing: PackingResource,
    retrieval_bucket: RetrievalBucketResource,
) -> SkipReason | None:
    """Finds failed or canceled dataset runs and cleans up a bounded number of them."""
    cursor = CleanupCursor.parse(context.cursor)
    cursor.updated_after = discover(context, cursor)
    now = time.time()
    chosen = due(cursor, now, definition_time_int("ARCHIVER_CLEANUPS_PER_TICK"))
    try:
        with scicat.tick_session() as client:
            cleaner = Cleaner(context, client, landing_zone, lts, packing, retrieval_bucket)
            for run_id in chosen:
                process(cleaner, cursor, run_id, now)
    finally:
        context.update_cursor(cursor.model_dump_json())
    if not chosen:
        waiting = len(cursor.pending)
        return SkipReason(f"no cleanup due ({waiting} waiting for a retry or another run)")
    return None
