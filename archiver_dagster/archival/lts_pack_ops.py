"""The no-scratch chain's pack: each tar is written straight into its reservation on the LTS."""

import time
from collections.abc import Mapping

from dagster import MetadataValue, OpExecutionContext, Out, op

from archiver_dagster.archival.lts_ops import registered_copy
from archiver_dagster.archival.manifests import DatablockManifest, DatablockPlan, LTSCopy
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.ordering import COPY, priority
from archiver_dagster.archival.packing_step import TarMembers, pack_planned
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.errors import classified_failures
from archiver_dagster.metadata import S3_TRANSIENT_FAULTS_KEY, throughput
from archiver_dagster.packing.source_checksums import RegisteredChecksum
from archiver_dagster.packing.tar_stream import StreamedTar, stream_tar
from archiver_dagster.pooled_retries import retried_without_slot, will_retry
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.transient import TransientFaults


@op(
    pool="lts_write",
    tags=priority(COPY),
    out={"datablock": Out(DatablockManifest), "copy": Out(LTSCopy)},
)
def pack_onto_lts(
    context: OpExecutionContext,
    plan: DatablockPlan,
    landing_zone: LandingZoneResource,
    packing: PackingResource,
    lts: LTSResource,
) -> tuple[DatablockManifest, LTSCopy]:
    """Packs the datablock from the landing zone into its reserved `.partial` file on the LTS.

    One write per byte (decision 72): the tar is hashed as it is packed, flushed to stable
    storage and renamed into place as `copy_to_lts` does with a copy. A transient S3 fault
    retries the op after a backoff, its `lts_write` slot free meanwhile and its reservation
    kept; the retry writes the tar again from its start. Any other failure removes the partial
    file, and with it the reservation.
    """
    if plan.mode is ArchivalMode.REVERIFY:  # already on the LTS: nothing to pack
        datablock = plan.registered_datablock()
        with classified_failures():
            return datablock, registered_copy(lts, datablock)
    archive_id = packing.layout(context.partition_key).archive_id(plan.index)
    budget_s = landing_zone.transient_fault_budget_s

    def keep_reservation(error: BaseException) -> bool:
        return will_retry(context, budget_s, error)

    def write(members: TarMembers, registered: Mapping[str, RegisteredChecksum]) -> StreamedTar:
        with lts.writing(archive_id, keep_reservation) as out:
            return stream_tar(out, members, packing.checksum_algorithm, registered=registered)

    # No sleeping through a fault while holding `lts_write` (decision 49): the first transient
    # fault ends the attempt, and Dagster retries the op.
    faults = TransientFaults(0.0)
    with (
        retried_without_slot(context, budget_s, f"packing {archive_id} onto the LTS"),
        classified_failures(),
    ):
        packed = pack_planned(context, plan, landing_zone, packing, write, faults)
    stored_at = time.time()
    path = lts.path_of(archive_id)
    context.add_output_metadata(
        {**packed.metadata, S3_TRANSIENT_FAULTS_KEY: context.retry_number}, output_name="datablock"
    )
    context.add_output_metadata(
        {
            "lts_path": MetadataValue.path(str(path)),
            **throughput(packed.manifest.packed_size, packed.seconds),
        },
        output_name="copy",
    )
    copy = LTSCopy(
        datablock=packed.manifest, lts_path=str(path), stored_at=stored_at, seconds=packed.seconds
    )
    return packed.manifest, copy
