"""Which pipeline a run belongs to, whatever launched it (sensor, backfill, UI, re-execution)."""

from enum import StrEnum

from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRun

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME
from archiver_dagster.retrieval.assets import retrieval_assets
from archiver_dagster.retrieval.dagster_job import RETRIEVE_JOB_NAME
from archiver_dagster.tags import PARTITION_TAG

ARCHIVAL_KEYS: frozenset[AssetKey] = frozenset(
    key for assets_def in archival_assets for key in assets_def.keys
)
RETRIEVAL_KEYS: frozenset[AssetKey] = frozenset(
    key for assets_def in retrieval_assets for key in assets_def.keys
)


class RunKind(StrEnum):
    """The dataset pipelines."""

    ARCHIVE = "archive"
    RETRIEVE = "retrieve"


def planned_asset_keys(instance: DagsterInstance, run: DagsterRun) -> frozenset[AssetKey]:
    """The assets the run set out to materialize (its selection, else its planned events)."""
    if run.asset_selection:
        return frozenset(run.asset_selection)
    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    return frozenset(record.asset_key for record in records if record.asset_key is not None)


def run_kind(instance: DagsterInstance, run: DagsterRun) -> RunKind | None:
    """ARCHIVE or RETRIEVE for a run of one dataset's pipeline, None for anything else."""
    if PARTITION_TAG not in run.tags:
        return None
    if run.job_name == ARCHIVE_JOB_NAME:
        return RunKind.ARCHIVE
    if run.job_name == RETRIEVE_JOB_NAME:
        return RunKind.RETRIEVE
    planned = planned_asset_keys(instance, run)
    if planned & ARCHIVAL_KEYS:
        return RunKind.ARCHIVE
    if planned & RETRIEVAL_KEYS:
        return RunKind.RETRIEVE
    return None
