"""Request bodies and query filters of the jobs endpoints (v3 and v4), after the SciCat SDK."""

from typing import Any

from pydantic import Field

from devstack.scicat_sim.models import Dto, UtcDatetime


class DatasetListEntry(Dto):
    """One entry of a job's dataset list: a dataset pid and its selected files (SDK)."""

    pid: str
    files: list[str]


class CreateJobV3Dto(Dto):
    """Body of `POST /api/v3/Jobs` (SDK `CreateJobDtoV3`)."""

    type: str
    email_job_initiator: str | None = None
    job_params: dict[str, Any] | None = None
    dataset_list: list[DatasetListEntry]
    execution_time: UtcDatetime | None = None
    job_status_message: str | None = None
    job_result_object: dict[str, Any] | None = None


class UpdateJobV3Dto(Dto):
    """Body of `PATCH /api/v3/Jobs/{id}` (SDK `UpdateJobDtoV3`)."""

    execution_time: UtcDatetime | None = None
    job_status_message: str | None = None
    job_result_object: dict[str, Any] | None = None


class CreateJobV4Dto(Dto):
    """Body of `POST /api/v4/jobs` (SDK `CreateJobDto`)."""

    type: str
    job_params: dict[str, Any]
    owner_user: str | None = None
    owner_group: str | None = None
    contact_email: str | None = None


class UpdateJobV4Dto(Dto):
    """Body of `PATCH /api/v4/jobs/{id}` (SDK `UpdateJobDto`): both status fields required."""

    status_code: str
    status_message: str
    job_result_object: dict[str, Any] | None = None


class Limits(Dto):
    """Paging and ordering of a job listing: `{"skip", "limit", "order": "field:asc"}`."""

    skip: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=0)
    order: str | None = None


class JobFilterV4(Dto):
    """The `filter` query parameter of `GET /api/v4/jobs`."""

    where: dict[str, Any] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    fields: list[str] | None = None
