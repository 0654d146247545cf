"""The packing resource: scratch area, datablock size and checksum algorithm."""

import shutil
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, field_validator

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.settings import parse_setting
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource

GIGABYTE = 1_000_000_000


class PackingResource(ConfigurableResource):
    """How datablocks are built (`ARCHIVER_*` variables)."""

    scratch_folder: str = Field(
        default="",
        description="Local folder for tars (ARCHIVER_SCRATCH_FOLDER); empty: no scratch, tars "
        "are packed straight onto the LTS (decision 72).",
    )
    dataset_layout: DatasetLayoutResource = Field(
        description="Where each dataset's scratch folder is: the storage prefix, shared with "
        "the landing zone and the LTS."
    )
    target_size_gb: str = Field(
        default="200", description="Max unpacked GB per datablock (ARCHIVER_TARGET_SIZE_GB)."
    )
    checksum_algorithm: str = Field(default="md5", description="chkAlg (ARCHIVER_CHECKSUM_ALG).")
    max_scratch_datablocks: int = Field(
        default=2,
        description="Most tars of one dataset on scratch at once (ARCHIVER_SCRATCH_DATABLOCKS).",
    )

    @field_validator("target_size_gb", mode="before")
    @classmethod
    def _check_target_size(cls, value: str) -> str:
        if not isinstance(value, EnvVar):  # placeholders are validated once resolved
            parse_setting("ARCHIVER_TARGET_SIZE_GB", value)
        return value

    @field_validator("checksum_algorithm", mode="before")
    @classmethod
    def _check_algorithm(cls, value: str) -> str:
        if not isinstance(value, EnvVar):
            parse_setting("ARCHIVER_CHECKSUM_ALG", value)
        return value

    @property
    def target_size_bytes(self) -> int:
        """The datablock size limit in bytes (decimal gigabytes, as the reference)."""
        return max(1, int(float(self.target_size_gb) * GIGABYTE))

    def layout(self, pid: str) -> DatasetLayout:
        """The dataset's layout under the storage prefix (validates the PID)."""
        return self.dataset_layout.of(pid)

    @property
    def uses_scratch(self) -> bool:
        """Whether tars are packed on scratch and then copied (else straight onto the LTS)."""
        return bool(self.scratch_folder.strip())

    def scratch_datablocks(self, pid: str) -> Path:
        """Folder where the dataset's tars are written; raises without a scratch folder."""
        if not self.uses_scratch:
            raise ArchiverSystemError(
                "ARCHIVER_SCRATCH_FOLDER is empty, yet the code location packs on scratch: it "
                "was loaded with another value (restart it with this one)"
            )
        return self.layout(pid).scratch_folder(Path(self.scratch_folder)) / "datablocks"

    def remove_scratch(self, pid: str) -> bool:
        """Deletes the dataset's scratch folder; returns whether it existed."""
        if not self.uses_scratch:
            return False
        folder = self.layout(pid).scratch_folder(Path(self.scratch_folder))
        if not folder.exists():
            return False
        shutil.rmtree(folder)
        return True
