"""Ops of `retrieved_datablocks`: plan, bring each datablock back verified, publish."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import BinaryIO, cast

from dagster import (
    DynamicOut,
    DynamicOutput,
    In,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    op,
)

from archiver_dagster.archive_record.members import registered_algorithm, registered_members
from archiver_dagster.archive_record.read_retries import lts_read_failures
from archiver_dagster.archive_record.tar_checksums import recorded_tar_checksums
from archiver_dagster.errors import (
    UserError,
    classified_failures,
)
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER, mapping_key
from archiver_dagster.metadata import TRANSIENT_FAULTS_KEY, scicat_job_metadata, throughput
from archiver_dagster.packing.verify import (
    TarDigest,
    verify_tar,
)
from archiver_dagster.pooled_retries import retried_without_slot
from archiver_dagster.retrieval.manifests import (
    RetrievalItem,
    RetrievedDatablock,
    RetrievedDatablocksManifest,
)
from archiver_dagster.retrieval.upload import MultipartSink, TeeReader
from archiver_dagster.scicat.models import LifecycleUpdate, RetrieveStatus
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.retrieval_bucket import (
    FINGERPRINT_KEY,
    RetrievalBucketResource,
    object_metadata,
)


class NothingToRetrieveError(UserError):
    """The dataset has no datablocks in SciCat: it was never archived."""


@op(ins={"lts_datablocks": In(Nothing)}, out=DynamicOut(RetrievalItem))
def plan_retrieval(
    context: OpExecutionContext, scicat: SciCatResource, lts: LTSResource
) -> Iterator[DynamicOutput[RetrievalItem]]:
    """Marks the retrieval started and lists the dataset's registered datablocks."""
    pid = context.partition_key
    with classified_failures():
        layout = lts.layout(pid)
        with scicat.run_session(context.log) as client:
            client.get_dataset(pid)  # a user error if SciCat has no such dataset
            client.update_lifecycle(
                pid, LifecycleUpdate(retrieve_status_message=RetrieveStatus.STARTED)
            )
            blocks = sorted(client.get_datablocks(pid), key=lambda block: block.archive_id)
        if not blocks:
            raise NothingToRetrieveError(f"dataset {pid} has no datablocks: it was never archived")
        for block in blocks:  # before anything is read: one misplaced datablock fails all
            layout.check_archive_id(block.archive_id)
    checksums = recorded_tar_checksums(context.instance, pid)
    for index, block in enumerate(blocks):
        recorded = checksums.get(block.archive_id)
        item = RetrievalItem(
            index=index,
            archive_id=block.archive_id,
            packed_size=block.packed_size,
            algorithm=registered_algorithm(block),
            tar_checksum=recorded.checksum if recorded else None,
            tar_algorithm=recorded.algorithm if recorded else None,
            members=registered_members(block),
        )
        yield DynamicOutput(item, mapping_key=mapping_key(index))


def _already_retrieved(
    bucket: RetrievalBucketResource, item: RetrievalItem
) -> dict[str, str] | None:
    """The object's metadata if the bucket already holds this datablock, verified, else None."""
    stored = bucket.stored(item.archive_id)
    if stored is None or stored.size != item.packed_size:
        return None
    if stored.metadata.get(FINGERPRINT_KEY) != item.fingerprint():
        return None
    return stored.metadata


@op(pool="lts_read")
def retrieve_datablock(
    context: OpExecutionContext,
    item: RetrievalItem,
    lts: LTSResource,
    retrieval_bucket: RetrievalBucketResource,
) -> RetrievedDatablock:
    """Reads the datablock from the LTS once, verifying it while streaming it to the bucket.

    The upload becomes visible only after the whole tar and every member checked out; a
    mismatch aborts it, so nothing corrupt is ever left in the bucket. A transient S3 fault
    retries the op after a backoff, its `lts_read` slot free meanwhile (`pooled_retries`).
    """
    name = PurePosixPath(item.archive_id).name
    fingerprint = item.fingerprint()
    budget_s = retrieval_bucket.transient_fault_budget_s
    with retried_without_slot(context, budget_s, f"retrieval of {item.archive_id}"):
        existing = _already_retrieved(retrieval_bucket, item)
        if existing is not None:
            retrieval_bucket.renew(item.archive_id, existing, datetime.now(UTC).isoformat())
            context.add_output_metadata(
                {"copied_from_lts": False, "expiry_renewed": True, "retries": context.retry_number}
            )
            return RetrievedDatablock(
                archive_id=item.archive_id,
                name=name,
                size=item.packed_size,
                fingerprint=fingerprint,
                copied_from_lts=False,
                retries=context.retry_number,
            )
        started = time.monotonic()
        digest = _copy_verified(context, item, lts, retrieval_bucket)
    seconds = time.monotonic() - started
    context.add_output_metadata(
        {
            "copied_from_lts": True,
            "retries": context.retry_number,
            "tar_checksum": digest.checksum,
            **throughput(item.packed_size, seconds),
        }
    )
    return RetrievedDatablock(
        archive_id=item.archive_id,
        name=name,
        size=item.packed_size,
        fingerprint=fingerprint,
        copied_from_lts=True,
        seconds=seconds,
        retries=context.retry_number,
    )


def _copy_verified(
    context: OpExecutionContext,
    item: RetrievalItem,
    lts: LTSResource,
    retrieval_bucket: RetrievalBucketResource,
) -> TarDigest:
    """Streams the datablock from the LTS to the bucket, verifying it; visible only if sound."""
    expected = [member.expected() for member in item.members]
    sink = MultipartSink(
        retrieval_bucket.client(),
        retrieval_bucket.bucket,
        item.archive_id,
        retrieval_bucket.part_size_bytes,
        object_metadata(item.fingerprint(), item.algorithm, context.run_id),
    )
    with classified_failures(), lts_read_failures(context, lts, item.archive_id):
        try:
            with lts.open_registered(
                context.partition_key, item.archive_id, item.packed_size
            ) as stream:
                tee = cast(BinaryIO, TeeReader(stream, sink))
                digest = verify_tar(
                    tee,
                    item.tar_checksum,
                    expected,
                    item.algorithm,
                    tar_algorithm=item.whole_tar_algorithm(),
                )
            sink.commit()
        except BaseException:
            sink.abort()  # nothing unverified ever becomes visible in the bucket
            raise
    return digest


@op(out=Out(RetrievedDatablocksManifest, io_manager_key=MANIFEST_IO_MANAGER))
def publish_retrieval(
    context: OpExecutionContext,
    retrieved: list[RetrievedDatablock],
    scicat: SciCatResource,
    retrieval_bucket: RetrievalBucketResource,
) -> Output[RetrievedDatablocksManifest]:
    """Marks the dataset retrieved in SciCat; the metadata names the objects and their expiry."""
    pid = context.partition_key
    ordered = sorted(retrieved, key=lambda block: block.archive_id)
    with classified_failures(), scicat.run_session(context.log) as client:
        client.update_lifecycle(
            pid,
            LifecycleUpdate(
                retrieve_status_message=RetrieveStatus.DATASET_RETRIEVED, retrievable=True
            ),
        )
    copied = [block for block in ordered if block.copied_from_lts]
    # Download links are bearer credentials: they go into the SciCat job's result only (the
    # status sensor signs them). Dagster's event log records which objects, and until when.
    expires_at = datetime.now(UTC) + retrieval_bucket.link_validity
    return Output(
        RetrievedDatablocksManifest(pid=pid, bucket=retrieval_bucket.bucket, datablocks=ordered),
        metadata={
            "datablocks": len(ordered),
            "copied_from_lts": len(copied),
            "expiry_renewed": len(ordered) - len(copied),
            "bucket": MetadataValue.text(retrieval_bucket.bucket),
            "object_keys": MetadataValue.json([block.archive_id for block in ordered]),
            "link_validity_days": retrieval_bucket.url_expiration_days,
            "expires_at": MetadataValue.timestamp(expires_at),
            TRANSIENT_FAULTS_KEY: client.transient_faults,
            "datablock_retries": sum(block.retries for block in ordered),
            **scicat_job_metadata(context.run.tags),
            **throughput(sum(b.size for b in copied), sum(b.seconds for b in copied)),
        },
    )
