"""Asset checks on `verified_datablocks`, per dataset: the copies intact, SciCat consistent.

They run in every archival run (the archive job selects `verified_datablocks` and so its
checks), on demand from the asset's Checks tab for any partition, and from the fixity audit
schedule (`audit_schedule.py`). What they find is also recorded in the dataset's audit trail.
"""

import time
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetRecordsFilter,
    DagsterInstance,
    MetadataValue,
    PreviewWarning,
    asset_check,
)
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from archiver_dagster.archival.assets import VERIFIED_DATABLOCKS_KEY
from archiver_dagster.archive_record.tar_checksums import recorded_tar_checksums
from archiver_dagster.errors import bounded_list
from archiver_dagster.fixity.copies import (
    ReadBack,
    attest_read_back,
    consistency_problems,
    read_back_dataset,
)
from archiver_dagster.fixity.events import EventType, Outcome, PreservationEvent
from archiver_dagster.fixity.record import ALGORITHM_METADATA_KEY, event_metadata, observation
from archiver_dagster.metadata import throughput
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.scicat.client import DatasetNotFoundError
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.lts import LTSResource

LTS_COPIES_INTACT = "lts_copies_intact"
SCICAT_CONSISTENT = "scicat_consistent"
DAY_S = 86400.0
FINISHED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}

# Partitioned asset checks are a preview feature of Dagster 1.13 (docs/architecture.md, 80).
warnings.filterwarnings(
    "ignore", "Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
)


def _archival_in_this_run(context: AssetCheckExecutionContext, pid: str) -> dict[str, str] | None:
    """{archiveId: tar checksum} this run's `verified_datablocks` read back; None if it did not."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=VERIFIED_DATABLOCKS_KEY, asset_partitions=[pid]), limit=1
    ).records
    if not records or records[0].run_id != context.run.run_id:
        return None
    entry = records[0].asset_materialization.metadata.get("checksums_verified")
    data = getattr(entry, "value", None)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def last_fixity_time(instance: DagsterInstance, pid: str) -> float | None:
    """When the dataset's copies were last checked: its last audit, else its archival read-back."""
    history = instance.event_log_storage.get_asset_check_execution_history(
        AssetCheckKey(VERIFIED_DATABLOCKS_KEY, LTS_COPIES_INTACT),
        limit=1,
        status=FINISHED,
        partition_filter=PartitionKeyFilter(key=pid),
    )
    if history:
        return history[0].create_timestamp
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=VERIFIED_DATABLOCKS_KEY, asset_partitions=[pid]), limit=1
    ).records
    return records[0].timestamp if records else None


def _readback_metadata(readback: ReadBack, age_days: float | None) -> dict[str, MetadataValue]:
    """Numbers to plot across datasets (docs/operations.md, "Metadata"), and the checksums."""
    numbers: dict[str, MetadataValue] = {
        "datablocks": MetadataValue.int(len(readback.findings)),
        "files": MetadataValue.int(sum(f.members for f in readback.findings)),
        "problems": MetadataValue.int(len(readback.problems)),
        "bytes": MetadataValue.int(readback.bytes_read),
    }
    if readback.seconds > 0:  # read from the media now (an attestation reads nothing)
        numbers.update(throughput(readback.bytes_read, readback.seconds))
    if age_days is not None:
        numbers["audit_age_days"] = MetadataValue.float(round(age_days, 3))
    return numbers


@asset_check(
    asset=VERIFIED_DATABLOCKS_KEY,
    name=LTS_COPIES_INTACT,
    partitions_def=datasets_partitions,
    pool="lts_read",
    description="Every LTS copy of the dataset read back from the media (page cache bypassed): "
    "each member against its checksum in SciCat, the tar against the checksum recorded at "
    "archival.",
)
def lts_copies_intact(
    context: AssetCheckExecutionContext, scicat: SciCatResource, lts: LTSResource
) -> AssetCheckResult:
    """Re-reads the dataset's copies; in its archival run, attests that run's read-back instead."""
    pid = context.partition_key
    with scicat.run_session(context.log) as client:
        blocks = client.get_datablocks(pid)
    recorded = recorded_tar_checksums(context.instance, pid)
    previous = last_fixity_time(context.instance, pid)
    verified = _archival_in_this_run(context, pid)
    if verified is None:
        readback = read_back_dataset(lts, pid, blocks, recorded)
        source = "read back from the LTS media"
    else:
        readback = attest_read_back(blocks, verified, recorded)
        source = "this archival run's read-back from the LTS media"
    problems = readback.problems if blocks else ["SciCat lists no datablocks"]
    algorithms = sorted({finding.algorithm for finding in readback.findings})
    checksums = {f.archive_id: f.checksum for f in readback.findings if f.checksum}
    summary = (
        f"{len(problems)} of {len(blocks)} copies not intact: {bounded_list(problems)}"
        if problems
        else f"{len(blocks)} copies intact ({source})"
    )
    event = PreservationEvent(
        time=datetime.now(UTC),
        event_type=EventType.FIXITY_CHECK,
        outcome=Outcome.FAILURE if problems else Outcome.SUCCESS,
        run_id=context.run.run_id,
        agent=LTS_COPIES_INTACT,
        algorithm=", ".join(algorithms) or None,
        checksums=checksums,
        detail=summary,
    )
    age_days = (time.time() - previous) / DAY_S if previous is not None else None
    details = {
        "source": MetadataValue.text(source),
        ALGORITHM_METADATA_KEY: MetadataValue.text(", ".join(algorithms)),
        "tar_checksums": MetadataValue.json(checksums),
    }
    return _recorded_result(
        context, pid, event, problems, _readback_metadata(readback, age_days), details
    )


@asset_check(
    asset=VERIFIED_DATABLOCKS_KEY,
    name=SCICAT_CONSISTENT,
    partitions_def=datasets_partitions,
    description="SciCat's datablocks, the files on the LTS and the dataset's lifecycle agree: "
    "count, archiveIds, sizes, archived state.",
)
def scicat_consistent(
    context: AssetCheckExecutionContext, scicat: SciCatResource, lts: LTSResource
) -> AssetCheckResult:
    """Compares SciCat's registration with the LTS and the lifecycle (no data is read)."""
    pid = context.partition_key
    try:
        with scicat.run_session(context.log) as client:
            dataset = client.get_dataset(pid)
            blocks = client.get_datablocks(pid)
    except DatasetNotFoundError as error:
        problems = [f"SciCat has no such dataset: {error}"]
        blocks = []
    else:
        problems = consistency_problems(
            lts, dataset, blocks, recorded_tar_checksums(context.instance, pid)
        )
    summary = (
        f"{len(problems)} differences: {bounded_list(problems)}"
        if problems
        else f"SciCat, the LTS and the lifecycle agree on {len(blocks)} datablocks"
    )
    event = PreservationEvent(
        time=datetime.now(UTC),
        event_type=EventType.VALIDATION,
        outcome=Outcome.FAILURE if problems else Outcome.SUCCESS,
        run_id=context.run.run_id,
        agent=SCICAT_CONSISTENT,
        detail=summary,
    )
    numbers = {
        "datablocks": MetadataValue.int(len(blocks)),
        "problems": MetadataValue.int(len(problems)),
    }
    return _recorded_result(context, pid, event, problems, numbers)


def _recorded_result(
    context: AssetCheckExecutionContext,
    pid: str,
    event: PreservationEvent,
    problems: list[str],
    numbers: Mapping[str, MetadataValue],
    details: Mapping[str, MetadataValue] | None = None,
) -> AssetCheckResult:
    """Records the check's event in the audit trail; the result carries it and what differs."""
    context.op_execution_context.log_event(observation(pid, event, numbers))
    return AssetCheckResult(
        passed=not problems,
        description=event.detail,
        metadata={
            **numbers,
            **(details or {}),
            "problem_list": MetadataValue.json(problems),
            **event_metadata(event),
        },
    )


fixity_checks = [lts_copies_intact, scicat_consistent]
