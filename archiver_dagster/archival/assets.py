"""The archival assets, one partition per dataset.

origdatablocks -> datablocks -> lts_datablocks -> verified_datablocks; the last three are
materialized together by one graph that runs each datablock's steps as a pipeline.
"""

from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    GraphDefinition,
    GraphOut,
    MetadataValue,
    Output,
    asset,
    graph,
)

from archiver_dagster.archival.inventory import check_landing_zone, source_files
from archiver_dagster.archival.lts_ops import (
    collect_lts_copies,
    copy_to_lts,
    reserve_lts_space,
    wait_for_lts_space,
)
from archiver_dagster.archival.lts_pack_ops import pack_onto_lts
from archiver_dagster.archival.manifests import OrigDatablocksManifest
from archiver_dagster.archival.mode import ArchivalMode, archival_mode
from archiver_dagster.archival.pack_ops import (
    pack_datablock,
    plan_datablock_packing,
    register_datablocks,
)
from archiver_dagster.archival.verify_ops import (
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
# The keys of the assets `archived_datablocks` materializes together (`datablocks`' is
# `DATABLOCKS_ASSET_KEY`): what a lookup or an asset check names them by.
LTS_DATABLOCKS_KEY = AssetKey("lts_datablocks")
VERIFIED_DATABLOCKS_KEY = AssetKey("verified_datablocks")


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


def _read_back_and_record(origdatablocks: Any, packed: Any, copies: Any) -> dict[str, Any]:
    """What both chains end with: each copy settled and read back, then the three outputs.

    Defined before the graphs, which `@graph` composes as it decorates them. The arguments are
    the graph's input and the mapped outputs of its packs and LTS copies (Dagster's composition
    handles, hence `Any`).
    """
    verified = copies.map(lambda copy: verify_lts_copy(settle_lts_copy(copy)))
    registered = register_datablocks(origdatablocks, packed.collect())
    stored = collect_lts_copies(copies.collect())
    return {
        "datablocks": registered,
        "lts_datablocks": stored,
        "verified_datablocks": finalize_archival(registered, stored, verified.collect()),
    }


@graph(
    out={
        "datablocks": GraphOut(),
        "lts_datablocks": GraphOut(),
        "verified_datablocks": GraphOut(),
    }
)
def archived_datablocks(origdatablocks: OrigDatablocksManifest):
    """Per datablock, pack -> reserve LTS space -> copy -> settle -> read back, as a pipeline.

    One dynamic chain per datablock instead of one fan-out per asset: datablock i+1 is packed
    while datablock i is copied (step priorities, `ordering.py`), and each tar leaves scratch
    once its copy is durable (decision 71). The three assets are materialized by this one
    graph, with the same lineage as before.
    """
    packed = plan_datablock_packing(origdatablocks).map(pack_datablock)
    copies = packed.map(lambda block: copy_to_lts(wait_for_lts_space(block)))
    return _read_back_and_record(origdatablocks, packed, copies)


@graph(
    name="archived_datablocks",
    out={
        "datablocks": GraphOut(),
        "lts_datablocks": GraphOut(),
        "verified_datablocks": GraphOut(),
    },
)
def archived_datablocks_without_scratch(origdatablocks: OrigDatablocksManifest):
    """Per datablock, reserve LTS space -> pack into it -> settle -> read back (no scratch).

    The tar is packed straight into its reservation on the LTS, one write per byte instead of
    two (decision 72); the same assets, lineage and values as `archived_datablocks`.
    """
    planned = plan_datablock_packing(origdatablocks)
    packed, copies = planned.map(lambda plan: pack_onto_lts(reserve_lts_space(plan)))
    return _read_back_and_record(origdatablocks, packed, copies)


def _kinds(*kinds: str) -> dict[str, str]:
    """The tags that show `kinds` on an asset in the UI."""
    return {f"dagster/kind/{kind}": "" for kind in kinds}


def datablock_assets(graph_def: GraphDefinition) -> AssetsDefinition:
    """`datablocks`, `lts_datablocks` and `verified_datablocks`, materialized by `graph_def`."""
    return AssetsDefinition.from_graph(
        graph_def,
        keys_by_input_name={"origdatablocks": AssetKey("origdatablocks")},
        keys_by_output_name={
            # where later runs find the tar checksums it records
            "datablocks": DATABLOCKS_ASSET_KEY,
            "lts_datablocks": LTS_DATABLOCKS_KEY,
            "verified_datablocks": VERIFIED_DATABLOCKS_KEY,
        },
        internal_asset_deps={
            "datablocks": {AssetKey("origdatablocks")},
            "lts_datablocks": {DATABLOCKS_ASSET_KEY},
            "verified_datablocks": {LTS_DATABLOCKS_KEY},
        },
        partitions_def=datasets_partitions,
        group_name=ARCHIVAL_GROUP,
        descriptions_by_output_name={
            "datablocks": "Tar files of at most the target size, packed in one pass and registered "
            "in SciCat.",
            "lts_datablocks": "Copies of the datablocks on the LTS (pools `lts_free_space`, then "
            "`lts_write`).",
            "verified_datablocks": "Every copy read back from the LTS media and checked; the "
            "landing zone is then released.",
        },
        tags_by_output_name={
            "datablocks": _kinds("tar", "scicat"),
            "lts_datablocks": _kinds("lts"),
            "verified_datablocks": _kinds("lts", "scicat"),
        },
    )


def archival_assets_for(on_scratch: bool) -> list[AssetsDefinition]:
    """The four archival assets, packing on scratch or straight onto the LTS (decision 72).

    Both have the same keys, lineage and graph name: only the ops inside differ.
    """
    graph_def = archived_datablocks if on_scratch else archived_datablocks_without_scratch
    return [origdatablocks, datablock_assets(graph_def)]


# Packing on scratch: what tests and modules that only need the assets' keys use; the code
# location chooses with `archival_assets_for(packs_on_scratch())`.
archival_assets = archival_assets_for(on_scratch=True)
