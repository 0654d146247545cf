"""The archival assets, one partition per dataset.

origdatablocks -> datablocks -> lts_datablocks -> verified_datablocks.
"""

from dagster import AssetExecutionContext, AssetIn, MetadataValue, Output, asset, graph_asset

from archiver_dagster.archival.inventory import check_landing_zone, source_files
from archiver_dagster.archival.lts_ops import (
    collect_lts_copies,
    copy_to_lts,
    fan_out_datablocks,
    wait_for_lts_space,
)
from archiver_dagster.archival.manifests import (
    DatablocksManifest,
    LTSDatablocksManifest,
    OrigDatablocksManifest,
    VerifiedDatablocksManifest,
)
from archiver_dagster.archival.mode import ArchivalMode, archival_mode
from archiver_dagster.archival.pack_ops import (
    pack_datablock,
    plan_datablock_packing,
    register_datablocks,
)
from archiver_dagster.archival.verify_ops import (
    fan_out_lts_copies,
    finalize_archival,
    settle_lts_copy,
    verify_lts_copy,
)
from archiver_dagster.archive_record.tar_checksums import DATABLOCKS_ASSET_KEY
from archiver_dagster.errors import UserError, classified_failures
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER
from archiver_dagster.metadata import (
    S3_TRANSIENT_FAULTS_KEY,
    TRANSIENT_FAULTS_KEY,
    scicat_job_metadata,
)
from archiver_dagster.partitions import InvalidPidError, datasets_partitions, validate_pid
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.transient import logged_faults

ARCHIVAL_GROUP = "archival"


class InvalidDatasetPidError(UserError):
    """The partition key is not a PID the archiver can use safely."""


@asset(
    partitions_def=datasets_partitions,
    group_name=ARCHIVAL_GROUP,
    io_manager_key=MANIFEST_IO_MANAGER,
    kinds={"scicat", "s3"},
)
def origdatablocks(
    context: AssetExecutionContext, scicat: SciCatResource, landing_zone: LandingZoneResource
) -> Output[OrigDatablocksManifest]:
    """The dataset's files as registered in SciCat, each checked in the landing zone."""
    with classified_failures():
        try:
            pid = validate_pid(context.partition_key)
        except InvalidPidError as error:
            raise InvalidDatasetPidError(str(error)) from error
        s3_faults = logged_faults(landing_zone.transient_fault_budget_s, context.log)
        with scicat.run_session(context.log) as client:
            dataset = client.get_dataset(pid)
            files = source_files(client.get_origdatablocks(pid))
        mode = archival_mode(dataset)  # the one place the path of the run is decided
        if mode is ArchivalMode.REVERIFY:
            context.log.info(f"{pid} is already on the archive disk: its copies are re-verified")
        else:
            listed = landing_zone.list_raw_files(pid, s3_faults)
            check_landing_zone(files, listed)
    total = sum(file.size for file in files)
    return Output(
        OrigDatablocksManifest(pid=pid, files=files, total_bytes=total, mode=mode),
        metadata={
            "files": len(files),
            "bytes": MetadataValue.int(total),
            "already_archived": mode is ArchivalMode.REVERIFY,
            TRANSIENT_FAULTS_KEY: client.transient_faults,
            S3_TRANSIENT_FAULTS_KEY: s3_faults.count,
            **scicat_job_metadata(context.run.tags),
        },
    )


@graph_asset(
    key=DATABLOCKS_ASSET_KEY,  # where later runs find the tar checksums it records
    partitions_def=datasets_partitions,
    group_name=ARCHIVAL_GROUP,
    kinds={"tar", "scicat"},
)
def datablocks(origdatablocks: OrigDatablocksManifest) -> DatablocksManifest:
    """Tar files of at most the target size, packed in one pass and registered in SciCat."""
    packed = plan_datablock_packing(origdatablocks).map(pack_datablock)
    return register_datablocks(origdatablocks, packed.collect())


@graph_asset(
    partitions_def=datasets_partitions,
    group_name=ARCHIVAL_GROUP,
    ins={"datablocks": AssetIn(key=DATABLOCKS_ASSET_KEY)},
    kinds={"lts"},
)
def lts_datablocks(datablocks: DatablocksManifest) -> LTSDatablocksManifest:
    """Copies of the datablocks on the LTS (pools `lts_free_space`, then `lts_write`)."""
    copies = fan_out_datablocks(datablocks).map(
        lambda block: copy_to_lts(wait_for_lts_space(block))
    )
    return collect_lts_copies(copies.collect())


@graph_asset(partitions_def=datasets_partitions, group_name=ARCHIVAL_GROUP, kinds={"lts", "scicat"})
def verified_datablocks(lts_datablocks: LTSDatablocksManifest) -> VerifiedDatablocksManifest:
    """Every copy read back from the LTS media and checked; the landing zone is then released."""
    verified = fan_out_lts_copies(lts_datablocks).map(
        lambda copy: verify_lts_copy(settle_lts_copy(copy))
    )
    return finalize_archival(lts_datablocks, verified.collect())


archival_assets = [origdatablocks, datablocks, lts_datablocks, verified_datablocks]
