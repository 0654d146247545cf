"""Request bodies for login, datasets and (orig)datablocks, modelled on the SciCat SDK's DTOs.

Field names are snake_case in Python and camelCase on the wire (through an alias generator).
Like the real backend (class-validator with `forbidNonWhitelisted`), every model rejects unknown
fields at every nesting level and does not coerce types.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _as_utc(value: datetime) -> datetime:
    """Reads naive times as UTC, as the backend does, and normalises aware ones to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Number = int | float


class Dto(BaseModel):
    """Base of every request body: strict types, camelCase names, unknown fields forbidden."""

    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel)


class LoginDto(Dto):
    """Body of `POST /auth/login` (JSON or form-encoded)."""

    username: str
    password: str


class DataFile(Dto):
    """One file of an (orig)datablock (SDK `DataFile`)."""

    path: str
    size: Number
    time: UtcDatetime
    chk: str | None = None
    uid: str | None = None
    gid: str | None = None
    perm: str | None = None
    type: str | None = None
    metadata: dict[str, Any] | None = None


class CreateDatablockDto(Dto):
    """Body of `POST /datasets/{pid}/datablocks` (SDK `CreateDatasetDatablockDto`)."""

    archive_id: str
    size: Number
    packed_size: Number
    chk_alg: str | None = None
    version: str
    data_file_list: Annotated[list[DataFile], Field(min_length=1)]


class CreateOrigDatablockDto(Dto):
    """Body of `POST /datasets/{pid}/origdatablocks` (SDK `CreateDatasetOrigDatablockDto`)."""

    size: Number
    chk_alg: str | None = None
    data_file_list: Annotated[list[DataFile], Field(min_length=1)]
    is_published: bool | None = None


class LifecycleDto(Dto):
    """A dataset lifecycle (SDK `PartialUpdateDatasetLifecycleDto` / `LifecycleClass`)."""

    archivable: bool | None = None
    retrievable: bool | None = None
    publishable: bool | None = None
    date_of_disk_purging: UtcDatetime | None = None
    archive_retention_time: UtcDatetime | None = None
    date_of_publishing: UtcDatetime | None = None
    published_on: UtcDatetime | None = None
    is_on_central_disk: bool | None = None
    archive_status_message: str | None = None
    retrieve_status_message: str | None = None
    archive_return_message: dict[str, Any] | None = None
    retrieve_return_message: dict[str, Any] | None = None
    exported_to: str | None = None
    retrieve_integrity_check: bool | None = None
    storage_location: str | None = None


class UpdateDatasetDto(Dto):
    """Body of `PATCH /datasets/{pid}` (SDK `PartialUpdateDatasetDto`, plus v3 field names)."""

    owner_group: str | None = None
    access_groups: list[str] | None = Field(default_factory=list)
    instrument_group: str | None = None
    owner: str | None = None
    owner_email: str | None = None
    orcid_of_owner: str | None = None
    contact_email: str | None = None
    source_folder: str | None = None
    source_folder_host: str | None = None
    size: Number | None = 0
    packed_size: Number | None = 0
    number_of_files: Number | None = 0
    number_of_files_archived: Number | None = 0
    creation_time: UtcDatetime | None = None
    validation_status: str | None = None
    keywords: list[str] | None = None
    description: str | None = None
    dataset_name: str | None = None
    classification: str | None = None
    license: str | None = None
    is_published: bool | None = False
    techniques: list[dict[str, Any]] | None = None
    shared_with: list[str] | None = None
    relationships: list[dict[str, Any]] | None = None
    datasetlifecycle: LifecycleDto | None = None
    scientific_metadata: dict[str, Any] | None = None
    scientific_metadata_schema: str | None = None
    scientific_metadata_valid: bool | None = None
    comment: str | None = None
    data_quality_metrics: Number | None = None
    principal_investigator: str | None = None
    principal_investigators: list[str] | None = None
    start_time: UtcDatetime | None = None
    end_time: UtcDatetime | None = None
    creation_location: str | None = None
    data_format: str | None = None
    proposal_id: str | None = None
    proposal_ids: list[str] | None = None
    sample_id: str | None = None
    sample_ids: list[str] | None = None
    instrument_id: str | None = None
    instrument_ids: list[str] | None = None
    input_datasets: list[str] | None = None
    used_software: list[str] | None = None
    job_parameters: dict[str, Any] | None = None
    job_log_data: str | None = None
    run_number: str | None = None


class CreateDatasetDto(UpdateDatasetDto):
    """Body of `POST /datasets` (SDK `CreateDatasetDto`; `owner` required as in v3)."""

    pid: str | None = None
    type: Literal["raw", "derived"]
    owner_group: str
    owner: str
    contact_email: str
    source_folder: str
    creation_time: UtcDatetime
    dataset_name: str
