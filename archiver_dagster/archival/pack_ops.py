"""Ops of the `datablocks` asset: plan the tars, pack each (fanned out), register them."""

import time
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from dagster import (
    DynamicOut,
    DynamicOutput,
    MetadataValue,
    OpExecutionContext,
    Out,
    Output,
    op,
)
from pydantic import BaseModel, Field

from archiver_dagster.archival.file_attributes import file_entry
from archiver_dagster.archival.manifests import (
    DatablockManifest,
    DatablocksManifest,
    OrigDatablocksManifest,
    SourceFile,
)
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.ordering import PACK, priority
from archiver_dagster.archival.registration import manifests_from_registered, register
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.archival.scratch_wait import wait_for_scratch_slot
from archiver_dagster.archive_record.members import MemberManifest
from archiver_dagster.archive_record.tar_checksums import (
    RecordedTarChecksum,
    recorded_tar_checksums,
    tar_checksums_metadata,
)
from archiver_dagster.errors import (
    ArchiverSystemError,
    MissingFilesError,
    RegisteredChecksumError,
    classified_failures,
)
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER, mapping_key
from archiver_dagster.metadata import S3_TRANSIENT_FAULTS_KEY, TRANSIENT_FAULTS_KEY, throughput
from archiver_dagster.packing.plan import FileEntry, plan_datablocks
from archiver_dagster.packing.source_checksums import (
    RegisteredChecksum,
    SourceChecksumError,
    checkable_files,
    named_files,
)
from archiver_dagster.packing.tar_stream import SourceSizeError, write_tar
from archiver_dagster.scicat.models import ArchiveStatus, LifecycleUpdate
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import (
    LandingZoneObject,
    LandingZoneResource,
    RawObject,
)
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.transient import logged_faults


class DatablockPlan(BaseModel):
    """One datablock: the files to pack (ARCHIVE), or the datablock as registered (REVERIFY)."""

    mode: ArchivalMode
    index: int
    files: list[SourceFile] = Field(default_factory=list, description="ARCHIVE: what to pack.")
    registered: DatablockManifest | None = Field(
        default=None, description="REVERIFY: the datablock as SciCat registered it."
    )

    def registered_datablock(self) -> DatablockManifest:
        """The datablock of a REVERIFY plan, as registered; raises `ValueError` otherwise."""
        if self.registered is None:
            raise ValueError(f"the plan of datablock {self.index} has no registered datablock")
        return self.registered


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


def registered_checksums(
    context: OpExecutionContext, files: list[SourceFile]
) -> dict[str, RegisteredChecksum]:
    """The ingestor's checksums to verify while packing; logs those that cannot be checked."""
    triples = ((file.path, file.chk, file.chk_alg) for file in files)
    checkable, not_checkable = checkable_files(triples)
    if not_checkable:
        reasons = [f"{path}: {reason}" for path, reason in not_checkable.items()]
        context.log.warning(
            f"{len(reasons)} registered checksum(s) cannot be checked: {named_files(reasons)}"
        )
    return checkable


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
    layout = packing.layout(pid)
    dest = packing.scratch_datablocks(pid) / layout.datablock_name(plan.index)
    wait_for_scratch_slot(dest, packing.max_scratch_datablocks, context.retry_number, context.log)
    started = time.monotonic()
    registered = registered_checksums(context, plan.files)
    sources: dict[str, LandingZoneObject] = {}

    def members(objects: Iterable[RawObject]) -> Iterator[tuple[FileEntry, BinaryIO]]:
        for file, (stream, source) in zip(plan.files, objects, strict=False):
            sources[file.path] = source
            yield file_entry(file), stream

    faults = logged_faults(landing_zone.transient_fault_budget_s, context.log)
    with classified_failures():
        objects = landing_zone.open_raw_files(
            pid, [(file.path, file.size) for file in plan.files], faults
        )
        try:
            packed = write_tar(
                dest, members(objects), packing.checksum_algorithm, registered=registered
            )
        except SourceSizeError as error:
            raise MissingFilesError(
                f"landing-zone object changed while packing: {error}"
            ) from error
        except SourceChecksumError as error:
            raise RegisteredChecksumError(
                f"landing-zone data is not as registered: {error}"
            ) from error
        finally:
            objects.close()
    seconds = time.monotonic() - started
    context.add_output_metadata(
        {
            "archive_id": layout.archive_id(plan.index),
            "files": len(plan.files),
            "tar_checksum": packed.checksum,
            "tar_checksum_algorithm": packed.tar_algorithm,
            "chk_verified": len(registered),
            "chk_not_verified": len(plan.files) - len(registered),
            S3_TRANSIENT_FAULTS_KEY: faults.count,
            **throughput(packed.unpacked_size, seconds),
        }
    )
    return DatablockManifest(
        mode=ArchivalMode.ARCHIVE,
        index=plan.index,
        archive_id=layout.archive_id(plan.index),
        scratch_path=str(packed.path),
        size=packed.unpacked_size,
        packed_size=packed.packed_size,
        checksum=packed.checksum,
        algorithm=packed.algorithm,
        tar_algorithm=packed.tar_algorithm,
        members=[
            MemberManifest(
                path=member.path,
                size=member.size,
                checksum=member.checksum,
                landing_zone=sources[member.path],
            )
            for member in packed.members
        ],
        pack_seconds=seconds,
    )


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
