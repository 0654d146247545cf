"""Where a dataset's objects and files live: landing-zone keys, LTS paths, archiveIds, scratch.

The layout is the reference's, so existing landing zones and LTS shares work unchanged. A
layout can be built for any path-safe PID, so datasets archived before the PID rules of
`validate_pid` stay readable; new landing-zone keys and archiveIds are made only for PIDs that
pass them, whose keys never overlap another dataset's.
"""

import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.partitions import validate_pid, validate_retrievable_pid
from archiver_dagster.storage.local_names import local_name


class ArchiveIdOutsideDatasetError(ArchiverSystemError):
    """A datablock's archiveId, or the file it names, is not in the dataset's own LTS folder.

    A system error: the dataset's owner did not write the archiveId and cannot change it; an
    archiver, an administrator or a different `ARCHIVER_STORAGE_PREFIX` did. Not retried.
    """

    retriable = False


def _is_plain_name(name: str) -> bool:
    """Whether `name` is a file name the layout could have written (no control characters)."""
    return "\\" not in name and not any(
        unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name
    )


@dataclass(frozen=True)
class DatasetLayout:
    """Keys and relative paths of one dataset under the storage prefix."""

    prefix: str
    pid: str

    def __post_init__(self) -> None:
        validate_retrievable_pid(self.pid)

    @property
    def dataset_key(self) -> str:
        """`{prefix}/datasets/{pid}`: the dataset's folder in every store."""
        return f"{self.prefix}/datasets/{self.pid}"

    @property
    def raw_files_key(self) -> str:
        """Landing-zone key prefix of the dataset's files (ends with `/`); archivable PIDs only.

        Raises `InvalidPidError` for a PID with a `raw_files` segment: `x/raw_files/y`'s prefix
        lies inside dataset `x`'s, whose objects it would list, archive and delete as its own.
        """
        validate_pid(self.pid)
        return f"{self.dataset_key}/raw_files/"

    @property
    def datablocks_folder(self) -> str:
        """LTS folder of the dataset's tars, relative to the LTS root."""
        return f"{self.dataset_key}/datablocks"

    def datablock_name(self, index: int) -> str:
        """File name of datablock `index`: the PID with `/` replaced by `-`, then `_{index}.tar`."""
        return f"{self.datablock_prefix}{index}.tar"

    def archive_id(self, index: int) -> str:
        """SciCat `archiveId` of datablock `index`: its path on the LTS; archivable PIDs only."""
        validate_pid(self.pid)
        return f"{self.datablocks_folder}/{self.datablock_name(index)}"

    @property
    def datablock_prefix(self) -> str:
        """Start of every datablock file name of this dataset."""
        return f"{self.pid.replace('/', '-')}_"

    def owns_archive_id(self, archive_id: str) -> bool:
        """Whether `archive_id` names a datablock of this dataset in this layout.

        That is a `.tar` directly in the dataset's datablocks folder, written as the layout
        writes it: no `..`, `.` or empty segment, not absolute, no control character.
        """
        path = PurePosixPath(archive_id)
        return (
            str(path) == archive_id
            and str(path.parent) == self.datablocks_folder
            and path.suffix == ".tar"
            and _is_plain_name(path.name)
        )

    def check_archive_id(self, archive_id: str) -> str:
        """Returns `archive_id` if this dataset owns it; raises `ArchiveIdOutsideDatasetError`."""
        if not self.owns_archive_id(archive_id):
            raise ArchiveIdOutsideDatasetError(
                f"datablock archiveId {archive_id!r} is outside the dataset's LTS folder "
                f"{self.datablocks_folder}/: only .tar files directly in it are read "
                f"(was the dataset archived under another ARCHIVER_STORAGE_PREFIX than "
                f"{self.prefix!r}?)"
            )
        return archive_id

    def scratch_folder(self, scratch_root: Path) -> Path:
        """The dataset's archival scratch folder: one flat folder per PID, named `local_name(pid)`.

        Not nested like the stores' layout, so that cleaning PID `p` never touches `p/q`; the
        name stays below a file name's 255 bytes however long the PID's percent-encoding is.
        """
        return scratch_root / "archival" / self.prefix / local_name(self.pid)
