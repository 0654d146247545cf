"""Ops of the `datablocks` asset: plan the tars, pack each (fanned out), register them.

`DatablockPlan` is imported here by callers that knew it here; it lives in `manifests`.
"""

from collections.abc import Iterator, Mapping

from dagster import (
    DynamicOut,
    DynamicOutput,
    MetadataValue,
    OpExecutionContext,
    Out,
    Output,
    op,
)

from archiver_dagster.archival.file_attributes import file_entry
from archiver_dagster.archival.manifests import (
    DatablockManifest,
    DatablockPlan,
    DatablocksManifest,
    OrigDatablocksManifest,
)
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.ordering import PACK, priority
from archiver_dagster.archival.packing_step import TarMembers, pack_planned
from archiver_dagster.archival.registration import manifests_from_registered, register
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.archival.scratch_wait import wait_for_scratch_slot
from archiver_dagster.archive_record.tar_checksums import (
    RecordedTarChecksum,
    recorded_tar_checksums,
    tar_checksums_metadata,
)
from archiver_dagster.errors import ArchiverSystemError, classified_failures
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER, mapping_key
from archiver_dagster.metadata import TRANSIENT_FAULTS_KEY, throughput
from archiver_dagster.packing.plan import plan_datablocks
from archiver_dagster.packing.source_checksums import RegisteredChecksum
from archiver_dagster.packing.tar_stream import PackedTar, packed_tar_size, write_tar
from archiver_dagster.scicat.models import ArchiveStatus, LifecycleUpdate
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.transient import logged_faults


@op(out=DynamicOut(DatablockPlan))
def plan_datablock_packing(
    context: OpExecutionContext,
    origdatablocks: OrigDatablocksManifest,
    scicat: SciCatResource,
    packing: PackingResource,
    lts: LTSResource,
) -> Iterator[DynamicOutput[DatablockPlan]]:
    """Marks archiving started and splits the files into datablocks of the target size.

    Before any datablock is packed (and copied), LTS leftovers of earlier attempts are removed.
    """
    pid = context.partition_key
    with classified_failures():
        layout = packing.layout(pid)
        with scicat.run_session(context.log) as client:
            if origdatablocks.mode is ArchivalMode.REVERIFY:
                checksums = recorded_tar_checksums(context.instance, pid)
                registered = [
                    with_recorded_checksum(block, checksums.get(block.archive_id))
                    for block in manifests_from_registered(layout, client.get_datablocks(pid))
                ]
                if not registered:
                    raise ArchiverSystemError(
                        f"dataset {pid} is marked datasetOnArchiveDisk but has no datablocks"
                    )
                plans = [
                    DatablockPlan(mode=ArchivalMode.REVERIFY, index=block.index, registered=block)
                    for block in registered
                ]
            else:
                client.update_lifecycle(
                    pid, LifecycleUpdate(archive_status_message=ArchiveStatus.STARTED)
                )
                packing.remove_scratch(pid)  # leftovers of an earlier, interrupted attempt
                by_path = {file.path: file for file in origdatablocks.files}
                groups = plan_datablocks(
                    [file_entry(file) for file in origdatablocks.files], packing.target_size_bytes
                )
                plans = [
                    DatablockPlan(
                        mode=ArchivalMode.ARCHIVE,
                        index=index,
                        files=[by_path[entry.path] for entry in group],
                        packed_size=packed_tar_size(group),
                    )
                    for index, group in enumerate(groups)
                ]
                keep = {layout.datablock_name(plan.index) for plan in plans}
                removed = lts.remove_stale(pid, keep)
                if removed:
                    context.log.warning(
                        f"removed leftovers of an earlier attempt from the LTS: {removed}"
                    )
    context.log.info(f"{pid}: {len(plans)} datablock(s) planned")
    for plan in plans:
        yield DynamicOutput(
            plan,
            mapping_key=mapping_key(plan.index),
            metadata={TRANSIENT_FAULTS_KEY: client.transient_faults},
        )


def with_recorded_checksum(
    block: DatablockManifest, recorded: RecordedTarChecksum | None
) -> DatablockManifest:
    """A registered datablock with the tar checksum an earlier run recorded, if any."""
    if recorded is None:
        return block
    algorithm = recorded.algorithm or block.algorithm  # older records: the members' chkAlg
    return block.model_copy(update={"checksum": recorded.checksum, "tar_algorithm": algorithm})


@op(tags=priority(PACK))
def pack_datablock(
    context: OpExecutionContext,
    plan: DatablockPlan,
    landing_zone: LandingZoneResource,
    packing: PackingResource,
) -> DatablockManifest:
    """Streams the datablock's files from the landing zone into a tar, hashing in the same pass.

    At most `ARCHIVER_SCRATCH_DATABLOCKS` tars of the dataset are on scratch at once.
    """
    if plan.mode is ArchivalMode.REVERIFY:
        return plan.registered_datablock()  # already on the LTS: nothing to pack
    pid = context.partition_key
    dest = packing.scratch_datablocks(pid) / packing.layout(pid).datablock_name(plan.index)
    wait_for_scratch_slot(dest, packing.max_scratch_datablocks, context.retry_number, context.log)
    faults = logged_faults(landing_zone.transient_fault_budget_s, context.log)

    def write(members: TarMembers, registered: Mapping[str, RegisteredChecksum]) -> PackedTar:
        return write_tar(dest, members, packing.checksum_algorithm, registered=registered)

    with classified_failures():
        packed = pack_planned(context, plan, landing_zone, packing, write, faults)
    context.add_output_metadata(packed.metadata)
    return packed.manifest


@op(out=Out(DatablocksManifest, io_manager_key=MANIFEST_IO_MANAGER))
def register_datablocks(
    context: OpExecutionContext,
    origdatablocks: OrigDatablocksManifest,
    packed: list[DatablockManifest],
    scicat: SciCatResource,
    packing: PackingResource,
) -> Output[DatablocksManifest]:
    """Registers the packed datablocks in SciCat (replacing any earlier registration)."""
    pid = context.partition_key
    blocks = sorted(packed, key=lambda block: block.index)
    faults = 0
    if origdatablocks.mode is ArchivalMode.ARCHIVE:
        with classified_failures(), scicat.run_session(context.log) as client:
            blocks = register(client, packing.layout(pid), blocks, origdatablocks.files)
        faults = client.transient_faults
    pack_seconds = sum(block.pack_seconds for block in blocks)
    manifest = DatablocksManifest(pid=pid, datablocks=blocks, mode=origdatablocks.mode)
    return Output(
        manifest,
        metadata={
            "datablocks": len(blocks),
            TRANSIENT_FAULTS_KEY: faults,
            "files": sum(len(block.members) for block in blocks),
            "packed_bytes": MetadataValue.int(sum(block.packed_size for block in blocks)),
            **tar_checksums_metadata(
                {block.archive_id: (block.checksum, block.tar_algorithm) for block in blocks}
            ),
            "checksum_algorithm": ", ".join(sorted({block.algorithm for block in blocks})),
            "scicat_ids": MetadataValue.json([block.scicat_id for block in blocks]),
            "already_archived": origdatablocks.mode is ArchivalMode.REVERIFY,
            **throughput(sum(block.size for block in blocks), pack_seconds),
        },
    )
