"""What earlier runs recorded about a dataset, read back from the Dagster instance."""

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, JsonMetadataValue

CHECKSUMS_METADATA_KEY = "checksums"


def recorded_tar_checksums(instance: DagsterInstance, pid: str) -> dict[str, str]:
    """Whole-tar checksums (by archiveId) from the dataset's latest `datablocks` materialization.

    SciCat's datablock DTO has no field for the tar checksum, so the instance's event log is
    where it survives between runs; empty if the dataset was archived elsewhere.
    """
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("datablocks"), asset_partitions=[pid]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    value = materialization.metadata.get(CHECKSUMS_METADATA_KEY) if materialization else None
    if not isinstance(value, JsonMetadataValue) or not isinstance(value.data, dict):
        return {}
    return {str(key): str(checksum) for key, checksum in value.data.items() if checksum}
