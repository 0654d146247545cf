"""Whole-tar checksums: recorded on the asset that registers the datablocks, read back later.

SciCat's datablock DTO has no field for a tar's checksum, so the Dagster instance's event log is
where it survives between runs: the `datablocks` materialization's metadata. The asset's key is
defined here, once: its definition takes it from `DATABLOCKS_ASSET_KEY`, so the lookup follows
any renaming instead of silently finding nothing (and verifying members only).
"""

from collections.abc import Mapping
from typing import NamedTuple

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    JsonMetadataValue,
    MetadataValue,
)

# The asset whose materializations record the tar checksums (archival's `datablocks`).
DATABLOCKS_ASSET_KEY = AssetKey("datablocks")
# Its metadata entries: {archiveId: tar checksum} and {archiveId: its algorithm}. Records
# written before the second existed hashed the tar in the members' algorithm (chkAlg).
TAR_CHECKSUMS_METADATA_KEY = "checksums"
TAR_ALGORITHMS_METADATA_KEY = "checksum_algorithms"


class RecordedTarChecksum(NamedTuple):
    """A whole-tar checksum as recorded, with its algorithm (None: the members' chkAlg)."""

    checksum: str
    algorithm: str | None


def tar_checksums_metadata(checksums: Mapping[str, tuple[str, str]]) -> dict[str, MetadataValue]:
    """The metadata entries that record each datablock's tar checksum and algorithm, by archiveId.

    `checksums` maps an archiveId to (checksum, algorithm).
    """
    return {
        TAR_CHECKSUMS_METADATA_KEY: MetadataValue.json(
            {archive_id: checksum for archive_id, (checksum, _) in checksums.items()}
        ),
        TAR_ALGORITHMS_METADATA_KEY: MetadataValue.json(
            {archive_id: algorithm for archive_id, (_, algorithm) in checksums.items()}
        ),
    }


def recorded_tar_checksums(instance: DagsterInstance, pid: str) -> dict[str, RecordedTarChecksum]:
    """Whole-tar checksums (by archiveId) from the dataset's latest `datablocks` materialization.

    Empty if the dataset was archived elsewhere: then only its members can be verified. A
    checksum recorded without its algorithm (before decision 70) has the algorithm None.
    """
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=DATABLOCKS_ASSET_KEY, asset_partitions=[pid]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    metadata = materialization.metadata if materialization else {}
    checksums = _json_dict(metadata.get(TAR_CHECKSUMS_METADATA_KEY))
    algorithms = _json_dict(metadata.get(TAR_ALGORITHMS_METADATA_KEY))
    return {
        str(key): RecordedTarChecksum(str(checksum), _algorithm(algorithms.get(key)))
        for key, checksum in checksums.items()
        if checksum
    }


def _json_dict(value: object) -> dict[object, object]:
    """The dict a JSON metadata entry holds; empty for anything else or nothing."""
    if isinstance(value, JsonMetadataValue) and isinstance(value.data, dict):
        return value.data
    return {}


def _algorithm(value: object) -> str | None:
    """A recorded algorithm name, or None when none (or nothing usable) was recorded."""
    return str(value) if value else None
