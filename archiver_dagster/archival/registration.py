"""Datablock registration in SciCat: the DTO, and replacing stale registrations idempotently."""

from collections.abc import Mapping, Sequence

from archiver_dagster.archival.manifests import DatablockManifest, SourceFile
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archive_record.members import registered_algorithm, registered_members
from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.models import CreateDatablock, Datablock, DataFile
from archiver_dagster.storage.layout import DatasetLayout

DATABLOCK_VERSION = "1.0"


def datablock_dto(manifest: DatablockManifest, files: Mapping[str, SourceFile]) -> CreateDatablock:
    """The CreateDatasetDatablockDto of a packed datablock."""
    return CreateDatablock(
        archive_id=manifest.archive_id,
        size=manifest.size,
        packed_size=manifest.packed_size,
        chk_alg=manifest.algorithm,
        version=DATABLOCK_VERSION,
        data_file_list=[
            DataFile(
                path=member.path,
                size=member.size,
                time=files[member.path].time,
                chk=member.checksum,
                uid=files[member.path].uid,
                gid=files[member.path].gid,
                perm=files[member.path].perm,
            )
            for member in manifest.members
        ],
    )


def remove_registered(client: SciCatClient, layout: DatasetLayout) -> list[Datablock]:
    """Deletes the dataset's datablocks that this layout owns; returns what was deleted."""
    blocks = client.get_datablocks(layout.pid)
    owned = [block for block in blocks if layout.owns_archive_id(block.archive_id)]
    for block in owned:
        client.delete_datablock(layout.pid, block.id)
    return owned


def register(
    client: SciCatClient,
    layout: DatasetLayout,
    datablocks: Sequence[DatablockManifest],
    files: Sequence[SourceFile],
) -> list[DatablockManifest]:
    """Registers the datablocks, first deleting any earlier registration of this dataset's.

    Re-running a dataset that failed half-way therefore never leaves duplicates.
    """
    remove_registered(client, layout)
    by_path = {file.path: file for file in files}
    registered = []
    for manifest in datablocks:
        stored = client.create_datablock(layout.pid, datablock_dto(manifest, by_path))
        registered.append(manifest.model_copy(update={"scicat_id": stored.id}))
    return registered


def manifests_from_registered(
    layout: DatasetLayout, datablocks: Sequence[Datablock]
) -> list[DatablockManifest]:
    """Manifests of datablocks already registered (a dataset already on the archive disk)."""
    owned = sorted(
        (block for block in datablocks if layout.owns_archive_id(block.archive_id)),
        key=lambda block: block.archive_id,
    )
    return [
        DatablockManifest(
            mode=ArchivalMode.REVERIFY,
            index=index,
            archive_id=block.archive_id,
            size=block.size,
            packed_size=block.packed_size,
            checksum="",  # the tar checksum is not part of SciCat's DTO; members are
            algorithm=registered_algorithm(block),
            tar_algorithm=registered_algorithm(block),  # until a recorded checksum says more
            members=registered_members(block),
            scicat_id=block.id,
        )
        for index, block in enumerate(owned)
    ]
