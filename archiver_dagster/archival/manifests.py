"""The small JSON values the archival assets pass on: what was found, packed, copied, checked."""

from pydantic import BaseModel, Field

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
    already_archived: bool = Field(
        default=False,
        description="SciCat says the dataset is on the archive disk: re-verify, do not re-pack.",
    )


class DatablockManifest(BaseModel):
    """One datablock (tar): where it is, what it holds, its SciCat registration."""

    index: int
    archive_id: str
    scratch_path: str | None = None
    size: int
    packed_size: int
    checksum: str
    algorithm: str
    members: list[MemberManifest]
    scicat_id: str | None = None
    pack_seconds: float = 0.0


class DatablocksManifest(BaseModel):
    """Value of `datablocks`: the dataset's tars, registered in SciCat."""

    pid: str
    datablocks: list[DatablockManifest]
    already_archived: bool = False


class LtsCopy(BaseModel):
    """A datablock stored on the LTS."""

    datablock: DatablockManifest
    lts_path: str
    stored_at: float = Field(description="Epoch seconds when the copy was flushed.")
    seconds: float = 0.0
    free_space_wait_seconds: float = 0.0


class LtsDatablocksManifest(BaseModel):
    """Value of `lts_datablocks`: the copies on the LTS."""

    pid: str
    copies: list[LtsCopy]


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
