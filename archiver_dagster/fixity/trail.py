"""A dataset's audit trail, read from the Dagster instance, printed by `archiver-dagster history`.

Events the archiver's steps already leave are read as they are (materializations of the
archival and retrieval assets, failed runs); events with no materialization of their own (each
audit, each cleanup after a failure) are recorded by `fixity/record.py` as observations of
`verified_datablocks` carrying the event (`premis_event`) and numbers to plot.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)

from archiver_dagster.archival.assets import LTS_DATABLOCKS_KEY, VERIFIED_DATABLOCKS_KEY
from archiver_dagster.archive_record.tar_checksums import (
    DATABLOCKS_ASSET_KEY,
    TAR_ALGORITHMS_METADATA_KEY,
    TAR_CHECKSUMS_METADATA_KEY,
)
from archiver_dagster.automation.run_failures import describe_failure
from archiver_dagster.automation.run_kinds import RunKind, run_kind
from archiver_dagster.fixity.events import EventType, Outcome, PreservationEvent
from archiver_dagster.fixity.record import (
    ALGORITHM_METADATA_KEY,
    EVENT_METADATA_KEY,
    TRAIL_ASSET_KEY,
)
from archiver_dagster.retrieval.assets import retrieved_datablocks
from archiver_dagster.tags import PARTITION_TAG

PAGE = 1000


def _value(metadata: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """The plain value of a metadata entry, or `default`."""
    entry = metadata.get(key)
    return default if entry is None else getattr(entry, "value", entry)


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _all_records(fetch: Callable[..., Any], key: AssetKey, pid: str) -> list[Any]:
    """Every record `fetch` holds for the asset's partition, oldest first, page by page.

    `fetch` is the instance's `fetch_materializations` or `fetch_observations`.
    """
    records: list[Any] = []
    cursor = None
    while True:
        result = fetch(
            AssetRecordsFilter(asset_key=key, asset_partitions=[pid]),
            limit=PAGE,
            cursor=cursor,
            ascending=True,
        )
        records.extend(result.records)
        if not result.has_more:
            return records
        cursor = result.cursor


def _materializations(instance: DagsterInstance, key: AssetKey, pid: str) -> list[Any]:
    """Every materialization of the asset's partition, oldest first."""
    return _all_records(instance.fetch_materializations, key, pid)


def _reverify_runs(instance: DagsterInstance, pid: str) -> set[str]:
    """Runs that re-verified an archived dataset instead of archiving it."""
    return {
        record.run_id
        for record in _materializations(instance, DATABLOCKS_ASSET_KEY, pid)
        if _value(record.asset_materialization.metadata, "already_archived", False)
    }


def _archival_events(instance: DagsterInstance, pid: str) -> list[PreservationEvent]:
    """Events read from the archival assets' materializations."""
    reverified = _reverify_runs(instance, pid)
    events = []
    for record in _materializations(instance, DATABLOCKS_ASSET_KEY, pid):
        meta = record.asset_materialization.metadata
        if record.run_id in reverified:
            continue
        checksums = _value(meta, TAR_CHECKSUMS_METADATA_KEY, {})
        # The tars' own algorithm (decision 70); records without it hashed tars like members.
        tar_algorithms = sorted(set(_value(meta, TAR_ALGORITHMS_METADATA_KEY, {}).values()))
        algorithm = ", ".join(tar_algorithms) or _value(meta, ALGORITHM_METADATA_KEY)
        events.append(
            PreservationEvent(
                time=_when(record.timestamp),
                event_type=EventType.MESSAGE_DIGEST_CALCULATION,
                outcome=Outcome.SUCCESS,
                run_id=record.run_id,
                agent="datablocks",
                algorithm=algorithm,
                checksums=checksums,
                detail=f"{len(checksums)} tars packed, hashed and registered in SciCat",
            )
        )
    for record in _materializations(instance, LTS_DATABLOCKS_KEY, pid):
        if record.run_id in reverified:
            continue
        paths = _value(record.asset_materialization.metadata, "lts_paths", [])
        events.append(
            PreservationEvent(
                time=_when(record.timestamp),
                event_type=EventType.REPLICATION,
                outcome=Outcome.SUCCESS,
                run_id=record.run_id,
                agent="lts_datablocks",
                detail=f"{len(paths)} copies written to the LTS and flushed",
            )
        )
    for record in _materializations(instance, VERIFIED_DATABLOCKS_KEY, pid):
        events.extend(_verified_events(record, record.run_id in reverified))
    return events


def _verified_events(record: Any, reverify: bool) -> list[PreservationEvent]:
    """The read-back, the ingestion and the landing zone's release of one archival run."""
    meta = record.asset_materialization.metadata
    base = {"time": _when(record.timestamp), "run_id": record.run_id, "outcome": Outcome.SUCCESS}
    checksums = _value(meta, "checksums_verified", {})
    events = [
        PreservationEvent(
            **base,
            event_type=EventType.FIXITY_CHECK,
            agent="verified_datablocks",
            algorithm=_value(meta, ALGORITHM_METADATA_KEY),
            checksums=checksums,
            detail=f"{len(checksums)} copies read back from the LTS media, every member and "
            "tar checksum compared" + (" (re-verification of an archived dataset)" * reverify),
        )
    ]
    if not reverify:
        events.append(
            PreservationEvent(
                **base,
                event_type=EventType.INGESTION,
                agent="verified_datablocks",
                detail="archived: SciCat lifecycle datasetOnArchiveDisk",
            )
        )
    deleted = int(_value(meta, "landing_zone_objects_deleted", 0))
    if deleted:
        kept = int(_value(meta, "landing_zone_objects_kept", 0))
        events.append(
            PreservationEvent(
                **base,
                event_type=EventType.DELETION,
                agent="verified_datablocks",
                detail=f"{deleted} landing-zone objects deleted after their copies were "
                f"verified ({kept} kept)",
            )
        )
    return events


def _retrieval_events(instance: DagsterInstance, pid: str) -> list[PreservationEvent]:
    """Each retrieval, from `retrieved_datablocks` materializations (no download links)."""
    events = []
    for record in _materializations(instance, retrieved_datablocks.key, pid):
        meta = record.asset_materialization.metadata
        events.append(
            PreservationEvent(
                time=_when(record.timestamp),
                event_type=EventType.DISSEMINATION,
                outcome=Outcome.SUCCESS,
                run_id=record.run_id,
                agent="retrieved_datablocks",
                detail=f"retrieval: {_value(meta, 'copied_from_lts', 0)} datablocks read from "
                f"the LTS, verified and put in bucket {_value(meta, 'bucket', '?')}, "
                f"{_value(meta, 'expiry_renewed', 0)} renewed",
            )
        )
    return events


def _failed_runs(instance: DagsterInstance, pid: str) -> list[PreservationEvent]:
    """Archival and retrieval runs of the dataset that failed or were canceled."""
    records = instance.get_run_records(
        filters=RunsFilter(
            tags={PARTITION_TAG: pid},
            statuses=[DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED],
        )
    )
    events = []
    for record in records:
        run = record.dagster_run
        kind = run_kind(instance, run)
        if kind is None:
            continue
        error_kind, message = describe_failure(instance, run)
        archival = kind is RunKind.ARCHIVE
        events.append(
            PreservationEvent(
                time=_when(record.end_time or record.update_timestamp.timestamp()),
                event_type=EventType.INGESTION if archival else EventType.DISSEMINATION,
                outcome=Outcome.FAILURE,
                run_id=run.run_id,
                agent=run.job_name,
                detail=f"{error_kind.value} error: {message}",
            )
        )
    return events


def _recorded_events(instance: DagsterInstance, pid: str) -> list[PreservationEvent]:
    """Events recorded as observations (audits, cleanups)."""
    events = []
    for record in _all_records(instance.fetch_observations, TRAIL_ASSET_KEY, pid):
        seen = record.asset_observation
        data = _value(seen.metadata, EVENT_METADATA_KEY) if seen else None
        if isinstance(data, dict):
            events.append(PreservationEvent.model_validate(data))
    return events


def dataset_history(instance: DagsterInstance, pid: str) -> list[PreservationEvent]:
    """Every preservation event of the dataset the instance holds, oldest first."""
    events = [
        *_archival_events(instance, pid),
        *_retrieval_events(instance, pid),
        *_failed_runs(instance, pid),
        *_recorded_events(instance, pid),
    ]
    return sorted(events, key=lambda event: event.time)
