"""SciCat's job API: jobs listed by type and status, read, updated; v3 and v4 dialects."""

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archiver_dagster.scicat.answers import describe_validation_error, parse_answer, parse_list
from archiver_dagster.scicat.client import (
    SciCatClient,
    quote_segment,
)


class JobStatus(StrEnum):
    """Job status codes (v3 `jobStatusMessage`, v4 `statusCode`)."""

    SUBMITTED = "jobSubmitted"
    IN_PROGRESS = "inProgress"
    FINISHED_SUCCESSFUL = "finishedSuccessful"
    FINISHED_WITH_DATASET_ERRORS = "finishedWithDatasetErrors"
    FINISHED_UNSUCCESSFUL = "finishedUnsuccessful"


class JobType(StrEnum):
    """The job types the archiver serves."""

    ARCHIVE = "archive"
    RETRIEVE = "retrieve"


class DatasetListEntry(BaseModel):
    """One entry of a job's dataset list."""

    model_config = ConfigDict(extra="ignore")

    pid: str
    files: list[str] = []


class SciCatJob(BaseModel):
    """A job in either dialect, reduced to what the archiver needs.

    `dataset_list` is kept raw: a malformed list is the job's problem, reported on the job.
    """

    id: str
    type: str
    status: str
    message: str | None = None
    dataset_list: Any = None
    result_object: Any = None

    def datasets(self) -> list[DatasetListEntry]:
        """The parsed dataset list; `ValueError` saying what is wrong with it."""
        if not isinstance(self.dataset_list, list) or not self.dataset_list:
            raise ValueError("the job has no datasets (datasetList is empty or missing)")
        try:
            return [DatasetListEntry.model_validate(entry) for entry in self.dataset_list]
        except ValidationError as error:
            raise ValueError(f"malformed datasetList: {error.errors()[0]['msg']}") from error


class JobAnswerV3(BaseModel):
    """A v3 job as the backend answers it (SDK `OutputJobV3Dto`), reduced to what we read."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    type: str
    job_status_message: str | None = Field(default=None, alias="jobStatusMessage")
    dataset_list: Any = Field(default=None, alias="datasetList")
    job_result_object: dict[str, Any] | None = Field(default=None, alias="jobResultObject")

    def job(self) -> SciCatJob:
        """The dialect-neutral view; v3 keeps the status message in `jobResultObject.message`."""
        result = self.job_result_object or {}
        message = result.get("message")
        return SciCatJob(
            id=self.id,
            type=self.type,
            status=self.job_status_message or "",
            message=message if isinstance(message, str) else None,
            dataset_list=self.dataset_list,
            result_object=self.job_result_object,
        )


class JobAnswerV4(BaseModel):
    """A v4 job as the backend answers it (SDK `JobClass`, `PartialOutputJobDto`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    type: str
    status_code: str | None = Field(default=None, alias="statusCode")
    status_message: str | None = Field(default=None, alias="statusMessage")
    job_params: dict[str, Any] | None = Field(default=None, alias="jobParams")
    job_result_object: dict[str, Any] | None = Field(default=None, alias="jobResultObject")

    def job(self) -> SciCatJob:
        """The dialect-neutral view; the dataset list is `jobParams.datasetList`."""
        return SciCatJob(
            id=self.id,
            type=self.type,
            status=self.status_code or "",
            message=self.status_message,
            dataset_list=(self.job_params or {}).get("datasetList"),
            result_object=self.job_result_object,
        )


def job_answer_model(api_version: int) -> type[JobAnswerV3] | type[JobAnswerV4]:
    """The answer model of the jobs API version in use."""
    return JobAnswerV4 if api_version == 4 else JobAnswerV3


def jobs_collection_url(client: SciCatClient) -> str:
    """The jobs collection of the configured API: v3 `{prefix}/Jobs`, v4 `{prefix}/jobs`."""
    name = "jobs" if client.jobs_api_version == 4 else "Jobs"
    return f"{client.jobs_url}/{name}"


def list_jobs(
    client: SciCatClient,
    job_type: str,
    status: str,
    page_size: int = 100,
    unreadable: list[str] | None = None,
) -> Iterator[SciCatJob]:
    """Every job of `job_type` in `status`, oldest first, fetched page by page.

    A job the archiver cannot read (no `id`, say) raises `SciCatError`; with an `unreadable`
    list it is described there and skipped instead, so that one bad job does not hide the rest.
    """
    skip = 0
    while True:
        limits = {"skip": skip, "limit": page_size}
        if client.jobs_api_version == 4:
            where = {"type": job_type, "statusCode": status}
            params = {"filter": json.dumps({"where": where, "limits": limits})}
            url = jobs_collection_url(client)
        else:
            fields = {"type": job_type, "jobStatusMessage": status}
            params = {"fields": json.dumps(fields), "limits": json.dumps(limits)}
            url = f"{jobs_collection_url(client)}/fullquery"
        response = client.send("GET", url, params=params)
        model = job_answer_model(client.jobs_api_version)
        answers: list[Any]
        if unreadable is None:
            answers = parse_list(model, response)
            jobs = [answer.job() for answer in answers]
        else:
            answers = parse_list(dict, response)
            readable = (
                _readable_job(model, item, skip + n, unreadable) for n, item in enumerate(answers)
            )
            jobs = [job for job in readable if job is not None]
        yield from jobs
        if len(answers) < page_size:
            return
        skip += page_size


def _readable_job(
    model: type[JobAnswerV3] | type[JobAnswerV4],
    item: dict[str, Any],
    position: int,
    unreadable: list[str],
) -> SciCatJob | None:
    """The job, or None after describing in `unreadable` why it cannot be read."""
    try:
        return model.model_validate(item).job()
    except ValidationError as error:
        identity = item.get("id") or item.get("_id") or f"at position {position}"
        unreadable.append(f"job {identity}: {describe_validation_error(error)}")
        return None


def get_job(client: SciCatClient, job_id: str) -> SciCatJob:
    """One job by id."""
    response = client.send("GET", f"{jobs_collection_url(client)}/{quote_segment(job_id)}")
    return parse_answer(job_answer_model(client.jobs_api_version), response).job()


def update_job(
    client: SciCatClient,
    job_id: str,
    status: JobStatus,
    message: str,
    result_object: dict[str, Any] | None = None,
) -> None:
    """Sets the job's status: v3 `jobStatusMessage`, v4 `statusCode` + `statusMessage`.

    v3 has no message field: the message goes into `jobResultObject.message` there.
    """
    body: dict[str, Any]
    if client.jobs_api_version == 4:
        body = {"statusCode": status.value, "statusMessage": message}
        if result_object is not None:
            body["jobResultObject"] = result_object
    else:
        body = {
            "jobStatusMessage": status.value,
            "jobResultObject": {"message": message, **(result_object or {})},
        }
    client.send("PATCH", f"{jobs_collection_url(client)}/{quote_segment(job_id)}", json_body=body)
