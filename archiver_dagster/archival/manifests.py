"""The small JSON values the archival assets pass on: what was found, packed, copied, checked."""

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archive_record.members import MemberManifest


class SourceFile(BaseModel):
    """A file of the dataset as registered in SciCat's origdatablocks."""

    path: str
    size: int
    time: str
    uid: str | None = None
    gid: str | None = None
    perm: str | None = None
    chk: str | None = Field(default=None, description="Checksum the ingestor registered.")
    chk_alg: str | None = Field(default=None, description="`chkAlg` of its origdatablock.")


class OrigDatablocksManifest(BaseModel):
    """Value of `origdatablocks`: the dataset's files, checked against the landing zone."""

    pid: str
    files: list[SourceFile]
    total_bytes: int
    mode: ArchivalMode = Field(description="Archive the files, or re-verify the archive.")


class DatablockManifest(BaseModel):
    """One datablock (tar): where it is, what it holds, its SciCat registration."""

    mode: ArchivalMode = Field(
        description="ARCHIVE: packed by this run, on scratch; REVERIFY: registered before, "
        "on the LTS only."
    )
    index: int
    archive_id: str
    scratch_path: str | None = Field(default=None, description="The tar on scratch (ARCHIVE).")
    size: int
    packed_size: int
    checksum: str = Field(description="Of the whole tar, in `tar_algorithm` ('': unknown).")
    algorithm: str = Field(description="Of the members' checksums (SciCat's chkAlg).")
    tar_algorithm: str = Field(description="Of the whole-tar checksum.")
    members: list[MemberManifest]
    scicat_id: str | None = None
    pack_seconds: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _tar_algorithm_of_older_manifests(cls, data: Any) -> Any:
        """A manifest stored before the tar had an algorithm of its own hashed it like members."""
        if isinstance(data, dict) and "tar_algorithm" not in data and "algorithm" in data:
            return {**data, "tar_algorithm": data["algorithm"]}
        return data

    def scratch_file(self) -> Path:
        """The tar this run packed on scratch; raises `ValueError` for a registered datablock."""
        if self.scratch_path is None:
            raise ValueError(
                f"{self.archive_id} was not packed by this run: it has no scratch file"
            )
        return Path(self.scratch_path)


class DatablockPlan(BaseModel):
    """One datablock: the files to pack (ARCHIVE), or the datablock as registered (REVERIFY)."""

    mode: ArchivalMode
    index: int
    files: list[SourceFile] = Field(default_factory=list, description="ARCHIVE: what to pack.")
    registered: DatablockManifest | None = Field(
        default=None, description="REVERIFY: the datablock as SciCat registered it."
    )
    packed_size: int = Field(
        default=0,
        description="ARCHIVE: the tar's exact size, headers and padding included, which the "
        "no-scratch chain reserves on the LTS before packing.",
    )

    def registered_datablock(self) -> DatablockManifest:
        """The datablock of a REVERIFY plan, as registered; raises `ValueError` otherwise."""
        if self.registered is None:
            raise ValueError(f"the plan of datablock {self.index} has no registered datablock")
        return self.registered


class DatablocksManifest(BaseModel):
    """Value of `datablocks`: the dataset's tars, registered in SciCat."""

    pid: str
    datablocks: list[DatablockManifest]
    mode: ArchivalMode = Field(description="Archive the files, or re-verify the archive.")


class LTSCopy(BaseModel):
    """A datablock stored on the LTS."""

    datablock: DatablockManifest
    lts_path: str
    stored_at: float = Field(
        description="Epoch seconds when the copy was flushed (REVERIFY: its modification time)."
    )
    seconds: float = 0.0
    free_space_wait_seconds: float = 0.0


class LTSDatablocksManifest(BaseModel):
    """Value of `lts_datablocks`: the copies on the LTS."""

    pid: str
    copies: list[LTSCopy]


class VerifiedCopy(BaseModel):
    """A datablock read back from the LTS media and found identical."""

    archive_id: str
    lts_path: str
    checksum: str
    members_verified: int
    seconds: float


class VerifiedDatablocksManifest(BaseModel):
    """Value of `verified_datablocks`: every copy verified, landing zone released."""

    pid: str
    verified: list[VerifiedCopy]
    landing_zone_objects_deleted: int
