"""Packing one planned datablock from the landing zone, wherever its tar is written.

On scratch (`pack_datablock`) or straight onto the LTS (`pack_onto_lts`): the same download,
member checks, errors, metadata and manifest; only the writer differs.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from dagster import OpExecutionContext

from archiver_dagster.archival.file_attributes import file_entry
from archiver_dagster.archival.manifests import DatablockManifest, DatablockPlan, SourceFile
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.archive_record.members import MemberManifest
from archiver_dagster.errors import MissingFilesError, RegisteredChecksumError
from archiver_dagster.metadata import S3_TRANSIENT_FAULTS_KEY, throughput
from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.source_checksums import (
    RegisteredChecksum,
    SourceChecksumError,
    checkable_files,
    named_files,
)
from archiver_dagster.packing.tar_stream import PackedTar, SourceSizeError, StreamedTar
from archiver_dagster.storage.landing_zone import LandingZoneObject, LandingZoneResource, RawObject
from archiver_dagster.transient import TransientFaults

TarMembers = Iterator[tuple[FileEntry, BinaryIO]]
# Writes the members as one tar, checking the registered checksums (`stream_tar`'s contract).
TarWriter = Callable[[TarMembers, Mapping[str, RegisteredChecksum]], StreamedTar]


@dataclass(frozen=True)
class PackedDatablock:
    """A packed datablock: its manifest, the pack step's metadata and its duration."""

    manifest: DatablockManifest
    metadata: dict[str, Any]
    seconds: float


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


def pack_planned(
    context: OpExecutionContext,
    plan: DatablockPlan,
    landing_zone: LandingZoneResource,
    packing: PackingResource,
    write: TarWriter,
    faults: TransientFaults,
) -> PackedDatablock:
    """Streams the plan's files from the landing zone through `write`, hashing in one pass.

    A landing-zone object that changed or vanished is a `MissingFilesError`, data that differs
    from its registered checksum a `RegisteredChecksumError` (user errors).
    """
    pid = context.partition_key
    layout = packing.layout(pid)
    started = time.monotonic()
    registered = registered_checksums(context, plan.files)
    sources: dict[str, LandingZoneObject] = {}

    def members(objects: Iterable[RawObject]) -> TarMembers:
        for file, (stream, source) in zip(plan.files, objects, strict=False):
            sources[file.path] = source
            yield file_entry(file), stream

    objects = landing_zone.open_raw_files(
        pid, [(file.path, file.size) for file in plan.files], faults
    )
    try:
        packed = write(members(objects), registered)
    except SourceSizeError as error:
        raise MissingFilesError(f"landing-zone object changed while packing: {error}") from error
    except SourceChecksumError as error:
        raise RegisteredChecksumError(f"landing-zone data is not as registered: {error}") from error
    finally:
        objects.close()
    seconds = time.monotonic() - started
    metadata = {
        "archive_id": layout.archive_id(plan.index),
        "files": len(plan.files),
        "tar_checksum": packed.checksum,
        "tar_checksum_algorithm": packed.tar_algorithm,
        "chk_verified": len(registered),
        "chk_not_verified": len(plan.files) - len(registered),
        S3_TRANSIENT_FAULTS_KEY: faults.count,
        **throughput(packed.unpacked_size, seconds),
    }
    manifest = DatablockManifest(
        mode=ArchivalMode.ARCHIVE,
        index=plan.index,
        archive_id=layout.archive_id(plan.index),
        scratch_path=str(packed.path) if isinstance(packed, PackedTar) else None,
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
    return PackedDatablock(manifest=manifest, metadata=metadata, seconds=seconds)
