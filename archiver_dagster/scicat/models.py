"""Pydantic models of the SciCat DTOs the archiver sends and reads.

Request bodies forbid unknown fields, as the real backend does (HTTP 400), so that a typo fails
in our own tests first. Responses ignore fields we do not use and require only the fields the
archiver relies on; their names follow the backend's OpenAPI (the `scicat-sdk-py` response
models), e.g. `_id` for (orig)datablocks, where Mongoose's `id` virtual may be absent.
"""

from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class ArchiveStatus(StrEnum):
    """Values of `datasetlifecycle.archiveStatusMessage` the archiver sets."""

    STARTED = "started"
    IS_ON_CENTRAL_DISK = "isOnCentralDisk"
    DATASET_ON_ARCHIVE_DISK = "datasetOnArchiveDisk"
    SCHEDULE_ARCHIVE_JOB_FAILED = "scheduleArchiveJobFailed"
    MISSING_FILES = "missingFilesError"


class RetrieveStatus(StrEnum):
    """Values of `datasetlifecycle.retrieveStatusMessage` the archiver sets."""

    STARTED = "started"
    DATASET_RETRIEVED = "datasetRetrieved"
    DATASET_RETRIEVAL_FAILED = "datasetRetrievalFailed"


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataFile(_Response):
    """One file of an (orig)datablock's `dataFileList` (read, and sent in datablocks)."""

    path: str
    size: int = Field(ge=0)
    time: str
    chk: str | None = None
    uid: str | None = None
    gid: str | None = None
    perm: str | None = None


# The backend's OpenAPI names a document's identifier `_id`; some routes and versions add
# Mongoose's `id` virtual. Either is accepted, `_id` first.
DOCUMENT_ID = AliasChoices("_id", "id")


class LoginAnswer(_Response):
    """The answer of `POST /auth/login` (SDK `ReturnedAuthLoginDto`), reduced to the token."""

    access_token: str = Field(min_length=1)
    expires_in: float | None = Field(default=None, gt=0)


class OrigDatablock(_Response):
    """A SciCat origdatablock: the files the ingestor registered (SDK `OrigDatablock`)."""

    id: str = Field(validation_alias=DOCUMENT_ID)
    dataset_id: str | None = Field(default=None, alias="datasetId")
    size: int = 0
    chk_alg: str | None = Field(default=None, alias="chkAlg")
    data_file_list: list[DataFile] = Field(default_factory=list, alias="dataFileList")


class Datablock(_Response):
    """A SciCat datablock as stored: one archived tar file (SDK `Datablock`)."""

    id: str = Field(validation_alias=DOCUMENT_ID)
    dataset_id: str | None = Field(default=None, alias="datasetId")
    archive_id: str = Field(alias="archiveId")
    size: int
    packed_size: int = Field(alias="packedSize")
    chk_alg: str | None = Field(default=None, alias="chkAlg")
    version: str
    data_file_list: list[DataFile] = Field(default_factory=list, alias="dataFileList")


class CreateDatablock(_Request):
    """Body of `POST /datasets/{pid}/datablocks` (the backend's CreateDatasetDatablockDto)."""

    archive_id: str = Field(alias="archiveId")
    size: int = Field(ge=0)
    packed_size: int = Field(ge=0, alias="packedSize")
    chk_alg: str = Field(alias="chkAlg")
    version: str
    data_file_list: list[DataFile] = Field(min_length=1, alias="dataFileList")


class LifecycleUpdate(_Request):
    """Body of `PATCH /datasets/{pid}/datasetlifecycle`: only the fields given are merged."""

    archivable: bool | None = None
    retrievable: bool | None = None
    archive_status_message: str | None = Field(default=None, alias="archiveStatusMessage")
    retrieve_status_message: str | None = Field(default=None, alias="retrieveStatusMessage")
    archive_return_message: dict[str, Any] | None = Field(
        default=None, alias="archiveReturnMessage"
    )
    retrieve_return_message: dict[str, Any] | None = Field(
        default=None, alias="retrieveReturnMessage"
    )
    retrieve_integrity_check: bool | None = Field(default=None, alias="retrieveIntegrityCheck")


class DatasetLifecycle(_Response):
    """The lifecycle part of a dataset."""

    archivable: bool | None = None
    retrievable: bool | None = None
    archive_status_message: str | None = Field(default=None, alias="archiveStatusMessage")
    retrieve_status_message: str | None = Field(default=None, alias="retrieveStatusMessage")


class Dataset(_Response):
    """The fields of a dataset the archiver reads (SDK `OutputDatasetObsoleteDto`)."""

    pid: str
    owner_group: str | None = Field(default=None, alias="ownerGroup")
    datasetlifecycle: DatasetLifecycle = Field(default_factory=DatasetLifecycle)

    @field_validator("datasetlifecycle", mode="before")
    @classmethod
    def _absent_lifecycle_is_empty(cls, value: Any) -> Any:
        """The lifecycle is optional in the backend's schema: `null` reads as an empty one."""
        return {} if value is None else value
