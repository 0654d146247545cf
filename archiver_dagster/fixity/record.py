"""Recording preservation events that no materialization holds: audits and cleanups.

Each is an observation of the dataset's `verified_datablocks` partition whose metadata
`premis_event` is the event (`fixity/trail.py` reads them back).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import AssetKey, AssetObservation, DagsterInstance, MetadataValue

from archiver_dagster.archival.assets import VERIFIED_DATABLOCKS_KEY
from archiver_dagster.fixity.events import EventType, Outcome, PreservationEvent

# The asset whose partitions carry the recorded events (observations), one per dataset.
TRAIL_ASSET_KEY: AssetKey = VERIFIED_DATABLOCKS_KEY
EVENT_METADATA_KEY = "premis_event"
# The metadata entry naming the checksum algorithm of a materialization's checksums.
ALGORITHM_METADATA_KEY = "checksum_algorithm"


def event_metadata(event: PreservationEvent) -> dict[str, MetadataValue]:
    """The metadata entry that records `event` on an observation or a check result."""
    return {EVENT_METADATA_KEY: MetadataValue.json(event.model_dump(mode="json"))}


def observation(
    pid: str, event: PreservationEvent, numbers: Mapping[str, Any] | None = None
) -> AssetObservation:
    """An observation of the dataset's `verified_datablocks` partition recording `event`."""
    return AssetObservation(
        asset_key=TRAIL_ASSET_KEY,
        partition=pid,
        metadata={**event_metadata(event), **(numbers or {})},
    )


def record_runless(instance: DagsterInstance, pid: str, event: PreservationEvent) -> None:
    """Records an event that belongs to no run (a sensor's cleanup) in the instance."""
    instance.report_runless_asset_event(observation(pid, event))


def record_cleanup(instance: DagsterInstance, run_id: str, pid: str, report: object) -> None:
    """Records what the cleanup after failed run `run_id` deleted (a deletion event)."""
    deleted = list(getattr(report, "datablocks_deleted", []) or [])
    uploads = list(getattr(report, "uploads_removed", []) or [])
    parts = [f"after failed run {run_id}"]
    if deleted:
        parts.append(f"{len(deleted)} datablocks deleted in SciCat")
    if uploads:
        parts.append(f"{len(uploads)} partial retrievals removed from the retrieval bucket")
    if getattr(report, "lts_removed", False):
        parts.append("its LTS copies removed")
    if getattr(report, "scratch_removed", False):
        parts.append("scratch removed")
    parts.extend(str(note) for note in getattr(report, "notes", []) or [])
    event = PreservationEvent(
        time=datetime.now(UTC),
        event_type=EventType.DELETION,
        outcome=Outcome.SUCCESS,
        run_id=run_id,
        agent="dataset_cleanup_sensor",
        checksums={archive_id: "" for archive_id in deleted},
        detail="cleanup " + "; ".join(parts),
    )
    record_runless(instance, pid, event)
