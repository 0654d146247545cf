"""The Dagster job that archives one dataset (partition = PID)."""

from dagster import AssetSelection, define_asset_job

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.settings import definition_time_int
from archiver_dagster.tags import max_runtime_tags

ARCHIVE_JOB_NAME = "archive_dataset_job"

archive_dataset_job = define_asset_job(
    ARCHIVE_JOB_NAME,
    selection=AssetSelection.assets(*archival_assets),
    tags=max_runtime_tags(definition_time_int("ARCHIVER_MAX_RUN_SECONDS")),
    description="Archives one dataset (partition = SciCat PID) from the landing zone to the LTS.",
)
