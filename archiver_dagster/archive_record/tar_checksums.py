"""Whole-tar checksums: recorded on the asset that registers the datablocks, read back later.

SciCat's datablock DTO has no field for a tar's checksum, so the Dagster instance's event log is
where it survives between runs: the `datablocks` materialization's metadata. The asset's key is
defined here, once: its definition takes it from `DATABLOCKS_ASSET_KEY`, so the lookup follows
any renaming instead of silently finding nothing (and verifying members only).
"""

from collections.abc import Mapping

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    JsonMetadataValue,
    MetadataValue,
)

# The asset whose materializations record the tar checksums (archival's `datablocks`).
DATABLOCKS_ASSET_KEY = AssetKey("datablocks")
# Its metadata entry: {archiveId: tar checksum}.
TAR_CHECKSUMS_METADATA_KEY = "checksums"


def tar_checksums_metadata(checksums: Mapping[str, str]) -> dict[str, MetadataValue]:
    """The metadata entry that records each datablock's tar checksum, by archiveId."""
    return {TAR_CHECKSUMS_METADATA_KEY: MetadataValue.json(dict(checksums))}


def recorded_tar_checksums(instance: DagsterInstance, pid: str) -> dict[str, str]:
    """Whole-tar checksums (by archiveId) from the dataset's latest `datablocks` materialization.

    Empty if the dataset was archived elsewhere: then only its members can be verified.
    """
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=DATABLOCKS_ASSET_KEY, asset_partitions=[pid]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    value = materialization.metadata.get(TAR_CHECKSUMS_METADATA_KEY) if materialization else None
    if not isinstance(value, JsonMetadataValue) or not isinstance(value.data, dict):
        return {}
    return {str(key): str(checksum) for key, checksum in value.data.items() if checksum}
