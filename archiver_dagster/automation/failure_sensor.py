"""Reports every failed dataset run to SciCat and cleans up after it, whatever launched it."""

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DefaultSensorStatus,
    RunFailureSensorContext,
    run_failure_sensor,
)

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.archival.cleanup import clean_up_failed_archival
from archiver_dagster.archival.jobs import ARCHIVE_JOB_NAME
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.automation.tags import CLEANED_UP_TAG, PARTITION_TAG
from archiver_dagster.errors import classify_step_failures
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource

ARCHIVAL_KEYS: frozenset[AssetKey] = frozenset(
    key for assets_def in archival_assets for key in assets_def.keys
)


def planned_asset_keys(instance: DagsterInstance, run: DagsterRun) -> frozenset[AssetKey]:
    """The assets the run set out to materialize (its selection, else its planned events)."""
    if run.asset_selection:
        return frozenset(run.asset_selection)
    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    return frozenset(record.asset_key for record in records if record.asset_key is not None)


def is_archival_run(instance: DagsterInstance, run: DagsterRun) -> bool:
    """Whether the run materialized (part of) the archival assets of one dataset."""
    if PARTITION_TAG not in run.tags:
        return False
    return run.job_name == ARCHIVE_JOB_NAME or bool(
        planned_asset_keys(instance, run) & ARCHIVAL_KEYS
    )


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
) -> None:
    """Sets the dataset's error status and removes its datablocks, LTS and scratch files."""
    run = context.dagster_run
    if not is_archival_run(context.instance, run):
        return
    pid = run.tags[PARTITION_TAG]
    kind, messages = classify_step_failures(context.get_step_failure_events())
    message = "; ".join(messages) or (context.failure_event.message or "run failed")
    client = scicat.client()
    try:
        report = clean_up_failed_archival(pid, kind, message, client, landing_zone, lts, packing)
    finally:
        client.close()
    context.instance.add_run_tags(run.run_id, {CLEANED_UP_TAG: "true"})
    context.log.info(f"run {run.run_id} of {pid} failed ({kind.value} error): {report}")
