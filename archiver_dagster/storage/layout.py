"""Where a dataset's objects and files live: landing-zone keys, LTS paths, archiveIds, scratch.

The layout is the reference's, so existing landing zones and LTS shares work unchanged. A
layout can be built for any path-safe PID, so datasets archived before the PID rules of
`validate_pid` stay readable; new landing-zone keys and archiveIds are made only for PIDs that
pass them, whose keys never overlap another dataset's.
"""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archiver_dagster.partitions import validate_pid, validate_retrievable_pid
from archiver_dagster.storage.local_names import local_name


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
        """Whether `archive_id` names a datablock of this dataset in this layout."""
        path = PurePosixPath(archive_id)
        return str(path.parent) == self.datablocks_folder and path.suffix == ".tar"

    def scratch_folder(self, scratch_root: Path) -> Path:
        """The dataset's archival scratch folder: one flat folder per PID, named `local_name(pid)`.

        Not nested like the stores' layout, so that cleaning PID `p` never touches `p/q`; the
        name stays below a file name's 255 bytes however long the PID's percent-encoding is.
        """
        return scratch_root / "archival" / self.prefix / local_name(self.pid)
