"""Reports every failed dataset run to SciCat and cleans up after it, whatever launched it."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from archiver_dagster.archival.cleanup import clean_up_failed_archival
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.automation.run_kinds import RunKind, run_kind
from archiver_dagster.errors import classify_step_failures
from archiver_dagster.retrieval.cleanup import clean_up_failed_retrieval
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster.tags import CLEANED_UP_TAG, PARTITION_TAG


# No `monitored_jobs`: UI backfills and ad-hoc materializations run as other jobs.
@run_failure_sensor(
    name="dataset_failure_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
)
def dataset_failure_sensor(
    context: RunFailureSensorContext,
    scicat: SciCatResource,
    landing_zone: LandingZoneResource,
    lts: LTSResource,
    packing: PackingResource,
    retrieval_bucket: RetrievalBucketResource,
) -> None:
    """Sets the dataset's error status and removes what the failed run left behind.

    If SciCat cannot be reached the tick fails and the daemon tries again on the next one.
    """
    run = context.dagster_run
    kind_of_run = run_kind(context.instance, run)
    if kind_of_run is None:
        return
    pid = run.tags[PARTITION_TAG]
    kind, messages = classify_step_failures(context.get_step_failure_events())
    message = "; ".join(messages) or (context.failure_event.message or "run failed")
    client = scicat.client()
    try:
        if kind_of_run is RunKind.ARCHIVE:
            report: object = clean_up_failed_archival(
                pid, kind, message, client, landing_zone, lts, packing
            )
        else:
            report = clean_up_failed_retrieval(
                pid, run.run_id, kind, message, client, retrieval_bucket, lts.storage_prefix
            )
    finally:
        client.close()
    context.instance.add_run_tags(run.run_id, {CLEANED_UP_TAG: "true"})
    context.log.info(
        f"{kind_of_run.value} run {run.run_id} of {pid} failed ({kind.value}): {report}"
    )
