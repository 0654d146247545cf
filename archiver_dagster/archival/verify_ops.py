"""Ops of the `verified_datablocks` asset: read every copy back from the LTS and check it.

Then the dataset is marked archived and its landing-zone objects are released.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from dagster import (
    MetadataValue,
    OpExecutionContext,
    Out,
    Output,
    op,
)

from archiver_dagster.archival.manifests import (
    DatablocksManifest,
    LTSCopy,
    LTSDatablocksManifest,
    VerifiedCopy,
    VerifiedDatablocksManifest,
)
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.ordering import READ_BACK, priority
from archiver_dagster.archival.release import confirm_release, releasable
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.archive_record.read_retries import lts_read_failures
from archiver_dagster.errors import (
    ArchiverSystemError,
    bounded_list,
    classified_failures,
)
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER
from archiver_dagster.metadata import S3_TRANSIENT_FAULTS_KEY, TRANSIENT_FAULTS_KEY, throughput
from archiver_dagster.packing.verify import (
    verify_tar,
)
from archiver_dagster.scicat.models import ArchiveStatus, LifecycleUpdate
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.transient import logged_faults


@op(tags=priority(READ_BACK))
def settle_lts_copy(context: OpExecutionContext, copy: LTSCopy, lts: LTSResource) -> LTSCopy:
    """Waits what is left of the LTS settle time since the copy was flushed, holding no pool."""
    if copy.datablock.mode is ArchivalMode.REVERIFY:
        return copy  # flushed by an earlier run, long settled
    remaining = copy.stored_at + lts.wait_before_verify_s - time.time()
    if remaining > 0:
        context.log.info(f"waiting {remaining:.0f} s before reading {copy.lts_path} back")
        time.sleep(remaining)
    return copy


@op(pool="lts_read", tags=priority(READ_BACK))
def verify_lts_copy(context: OpExecutionContext, copy: LTSCopy, lts: LTSResource) -> VerifiedCopy:
    """Reads the copy once from the media, checking the tar checksum and every member's."""
    block = copy.datablock
    expected = [member.expected() for member in block.members]
    started = time.monotonic()
    with (
        lts_read_failures(context, lts, copy.lts_path),
        lts.open_uncached(block.archive_id, block.packed_size) as stream,
    ):
        digest = verify_tar(
            stream,
            block.checksum or None,
            expected,
            block.algorithm,
            tar_algorithm=block.tar_algorithm,
        )
    seconds = time.monotonic() - started
    context.add_output_metadata(
        {
            "lts_path": MetadataValue.path(copy.lts_path),
            "tar_checksum": digest.checksum,
            "tar_checksum_algorithm": block.tar_algorithm,
            "members_verified": len(digest.members),
            **throughput(digest.packed_size, seconds),
        }
    )
    return VerifiedCopy(
        archive_id=block.archive_id,
        lts_path=copy.lts_path,
        checksum=digest.checksum,
        members_verified=len(digest.members),
        seconds=seconds,
    )


@op(out=Out(VerifiedDatablocksManifest, io_manager_key=MANIFEST_IO_MANAGER))
def finalize_archival(
    context: OpExecutionContext,
    datablocks: DatablocksManifest,
    lts_datablocks: LTSDatablocksManifest,
    verified: list[VerifiedCopy],
    scicat: SciCatResource,
    landing_zone: LandingZoneResource,
    lts: LTSResource,
    packing: PackingResource,
) -> Output[VerifiedDatablocksManifest]:
    """Marks the dataset archived in SciCat, then deletes its landing-zone objects and scratch.

    `datablocks` (registered in SciCat) is an input so that this runs after the registration.
    """
    pid = context.partition_key
    if len(datablocks.datablocks) != len(lts_datablocks.copies):
        raise ArchiverSystemError(f"{pid}: not every datablock was copied; keeping the data")
    ordered = sorted(verified, key=lambda copy: copy.archive_id)
    copies = lts_datablocks.copies
    with classified_failures():
        expected = {copy.datablock.archive_id for copy in copies}
        if {copy.archive_id for copy in ordered} != expected:
            raise ArchiverSystemError(f"{pid}: not every datablock was verified; keeping the data")
        layout = landing_zone.layout(pid)
        with scicat.run_session(context.log) as client:
            # The manifests may be an earlier run's (re-execution from failure): the LTS and
            # SciCat are asked again, now, before the dataset is marked archived ...
            confirm_release(copies, client, lts, layout)
            client.update_lifecycle(
                pid,
                LifecycleUpdate(
                    archive_status_message=ArchiveStatus.DATASET_ON_ARCHIVE_DISK,
                    archivable=False,
                    retrievable=True,
                ),
            )
            # ... and once more right before the only other copy is deleted.
            confirm_release(copies, client, lts, layout)
        faults = client.transient_faults
        # Only files packed by this run (re-verifying an archived dataset releases nothing),
        # and only objects still as they were packed.
        members = [
            member
            for copy in copies
            if copy.datablock.mode is ArchivalMode.ARCHIVE
            for member in copy.datablock.members
        ]
        s3_faults = logged_faults(landing_zone.transient_fault_budget_s, context.log)
        release, kept = releasable(members, landing_zone.list_raw_objects(pid, s3_faults))
        if kept:
            context.log.warning(
                f"{pid}: {len(kept)} landing-zone objects kept: {bounded_list(kept)}"
            )
        # The scratch tars are removed meanwhile: both are releases after verification, and
        # each takes a while (unlinking GBs; a server freeing the deleted objects' storage).
        with ThreadPoolExecutor(max_workers=1) as scratch_remover:
            scratch_removed = scratch_remover.submit(packing.remove_scratch, pid)
            deleted = landing_zone.delete_files(pid, sorted(release), s3_faults)
            scratch_removed.result()
    seconds = sum(copy.seconds for copy in ordered)
    return Output(
        VerifiedDatablocksManifest(pid=pid, verified=ordered, landing_zone_objects_deleted=deleted),
        metadata={
            "datablocks": len(ordered),
            "files": sum(copy.members_verified for copy in ordered),
            "checksums_verified": MetadataValue.json(
                {copy.archive_id: copy.checksum for copy in ordered}
            ),
            # of `checksums_verified`: the whole tars' (decision 70)
            "checksum_algorithm": ", ".join(sorted({c.datablock.tar_algorithm for c in copies})),
            "lts_paths": MetadataValue.json([copy.lts_path for copy in ordered]),
            "landing_zone_objects_deleted": deleted,
            "landing_zone_objects_kept": len(kept),
            TRANSIENT_FAULTS_KEY: faults,
            S3_TRANSIENT_FAULTS_KEY: s3_faults.count,
            **throughput(
                sum(copy.datablock.packed_size for copy in lts_datablocks.copies), seconds
            ),
        },
    )
