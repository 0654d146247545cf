"""The Dagster job that retrieves one dataset (partition = PID)."""

from dagster import AssetSelection, define_asset_job

from archiver_dagster.retrieval.assets import retrieved_datablocks
from archiver_dagster.settings import definition_time_int
from archiver_dagster.tags import max_runtime_tags

RETRIEVE_JOB_NAME = "retrieve_dataset_job"

retrieve_dataset_job = define_asset_job(
    RETRIEVE_JOB_NAME,
    selection=AssetSelection.assets(retrieved_datablocks),
    tags=max_runtime_tags(definition_time_int("ARCHIVER_MAX_RUN_SECONDS")),
    description="Brings one dataset (partition = SciCat PID) back from the LTS to the bucket.",
)
