"""Ops of the `lts_datablocks` asset: per datablock, wait for free space, then copy to the LTS.

Without scratch, the space is reserved before packing (`reserve_lts_space`) and the tar is
packed straight into it (`lts_pack_ops.pack_onto_lts`).
"""

import time

from dagster import MetadataValue, OpExecutionContext, Out, Output, op

from archiver_dagster.archival.manifests import (
    DatablockManifest,
    DatablockPlan,
    LTSCopy,
    LTSDatablocksManifest,
)
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.ordering import COPY, RESERVE, priority
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.errors import classified_failures
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER
from archiver_dagster.metadata import throughput
from archiver_dagster.storage.durable_copy import LTSError
from archiver_dagster.storage.lts import LTSResource


@op(pool="lts_free_space", tags=priority(RESERVE))
def wait_for_lts_space(
    context: OpExecutionContext, datablock: DatablockManifest, lts: LTSResource
) -> DatablockManifest:
    """Waits until the datablock fits on the LTS above the free-space margin, then reserves it.

    One at a time (pool `lts_free_space`), and the space is taken before the next check: two
    datablocks never both count the same free space. A datablock the share could never hold
    above the margin fails at once (a system error), releasing any reservation it held,
    instead of holding the pool's slot until the free-space timeout.
    """
    if datablock.mode is ArchivalMode.REVERIFY:
        return datablock  # already on the LTS: nothing to reserve
    reserve(context, lts, datablock.archive_id, datablock.packed_size)
    return datablock


@op(pool="lts_free_space", tags=priority(RESERVE))
def reserve_lts_space(
    context: OpExecutionContext, plan: DatablockPlan, lts: LTSResource, packing: PackingResource
) -> DatablockPlan:
    """`wait_for_lts_space` before packing, for the tar's planned size (no-scratch chain).

    The plan knows the tar's exact size from its members' sizes and headers, so the space is
    reserved before a byte is downloaded, and the tar is packed into that reservation.
    """
    if plan.mode is ArchivalMode.REVERIFY:
        return plan  # already on the LTS: nothing to reserve
    reserve(
        context, lts, packing.layout(context.partition_key).archive_id(plan.index), plan.packed_size
    )
    return plan


def reserve(context: OpExecutionContext, lts: LTSResource, archive_id: str, size: int) -> None:
    """Waits for room above the margin and takes it (`LTSResource.reserve_room`)."""
    with classified_failures():
        waited, reserved = lts.reserve_room(archive_id, size)
    if not reserved:
        context.log.warning(
            f"{lts.root} cannot allocate ahead: {archive_id} takes its space as it is "
            "written, and concurrent writes may together break the free-space margin"
        )
    context.add_output_metadata({"waited_seconds": round(waited, 3), "space_reserved": reserved})


def registered_copy(lts: LTSResource, datablock: DatablockManifest) -> LTSCopy:
    """The LTS copy of a datablock registered before (REVERIFY), checked to be there at its size."""
    path = lts.path_of(datablock.archive_id)
    if not path.is_file() or path.stat().st_size != datablock.packed_size:
        raise LTSError(f"{path} is missing or not {datablock.packed_size} bytes")
    return LTSCopy(datablock=datablock, lts_path=str(path), stored_at=path.stat().st_mtime)


@op(pool="lts_write", tags=priority(COPY))
def copy_to_lts(
    context: OpExecutionContext, datablock: DatablockManifest, lts: LTSResource
) -> LTSCopy:
    """Copies the tar to the LTS with the kernel's copy and flushes it to stable storage.

    Then the tar leaves scratch: the read-back checks the LTS copy against the checksums
    recorded while packing and never needs it, and the next pack may take its slot.
    """
    started = time.monotonic()
    with classified_failures():
        if datablock.mode is ArchivalMode.REVERIFY:  # already on the LTS: nothing to copy
            return registered_copy(lts, datablock)
        path = lts.store(datablock.scratch_file(), datablock.archive_id)
        datablock.scratch_file().unlink(missing_ok=True)
    seconds = time.monotonic() - started
    context.add_output_metadata(
        {"lts_path": MetadataValue.path(str(path)), **throughput(datablock.packed_size, seconds)}
    )
    return LTSCopy(datablock=datablock, lts_path=str(path), stored_at=time.time(), seconds=seconds)


@op(out=Out(LTSDatablocksManifest, io_manager_key=MANIFEST_IO_MANAGER))
def collect_lts_copies(
    context: OpExecutionContext, copies: list[LTSCopy]
) -> Output[LTSDatablocksManifest]:
    """Gathers the copies into the asset's manifest."""
    ordered = sorted(copies, key=lambda copy: copy.datablock.index)
    seconds = sum(copy.seconds for copy in ordered)
    return Output(
        LTSDatablocksManifest(pid=context.partition_key, copies=ordered),
        metadata={
            "datablocks": len(ordered),
            "files": sum(len(copy.datablock.members) for copy in ordered),
            "lts_paths": MetadataValue.json([copy.lts_path for copy in ordered]),
            **throughput(sum(copy.datablock.packed_size for copy in ordered), seconds),
        },
    )
