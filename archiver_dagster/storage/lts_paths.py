"""Where on the LTS a registered datablock may be read: only directly in its dataset's folder.

A datablock's archiveId comes from SciCat, and the LTS is a share others can write to; read as
given, `a/../../b` or an absolute path or a symbolic link would hand another dataset's (or any)
file to whoever retrieves this one.
"""

from pathlib import Path

from archiver_dagster.storage.layout import ArchiveIdOutsideDatasetError, DatasetLayout


def resolve_datablock(root: Path, layout: DatasetLayout, archive_id: str) -> Path:
    """The datablock's real path, if it lies directly in the dataset's folder; else raises.

    The archiveId must be one the layout owns (`DatasetLayout.check_archive_id`), and the file
    it names, with every symbolic link resolved, must still be directly in the dataset's
    folder below the real LTS root: a link anywhere below the root that leads elsewhere (the
    file, its folder or a parent) is refused. The root itself may be a link (a mount alias).
    A missing file resolves to its own path, so waiting for it to appear still works.
    """
    layout.check_archive_id(archive_id)
    real_root = root.resolve()
    folder = real_root / layout.datablocks_folder
    try:
        real = (real_root / archive_id).resolve()
        unresolved = real.is_symlink()  # Python 3.13 returns a looping link as it is
    except (OSError, RuntimeError) as error:  # 3.11 raises on a loop
        raise ArchiveIdOutsideDatasetError(
            f"datablock archiveId {archive_id!r} cannot be resolved on the LTS: {error}"
        ) from error
    if unresolved:
        raise ArchiveIdOutsideDatasetError(
            f"datablock archiveId {archive_id!r} cannot be resolved on the LTS: {real} is a "
            "symbolic link that leads nowhere"
        )
    if real.parent != folder:
        raise ArchiveIdOutsideDatasetError(
            f"datablock archiveId {archive_id!r} resolves to {real}, outside the dataset's "
            f"LTS folder {folder}/: a symbolic link on the LTS leads out of it"
        )
    return real
