"""SciCat jobs: listing by type and status, reading, status updates; v3 and v4 dialects."""

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from archiver_dagster.scicat.client import SciCatClient, SciCatError, quote_segment


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


def parse_job(data: dict[str, Any], api_version: int) -> SciCatJob:
    """Reads a v3 or v4 job answer."""
    if api_version == 4:
        params = data.get("jobParams") or {}
        return SciCatJob(
            id=str(data["id"]),
            type=str(data.get("type", "")),
            status=str(data.get("statusCode", "")),
            message=data.get("statusMessage"),
            dataset_list=params.get("datasetList") if isinstance(params, dict) else None,
            result_object=data.get("jobResultObject"),
        )
    result = data.get("jobResultObject")
    return SciCatJob(
        id=str(data["id"]),
        type=str(data.get("type", "")),
        status=str(data.get("jobStatusMessage", "")),
        message=result.get("message") if isinstance(result, dict) else None,
        dataset_list=data.get("datasetList"),
        result_object=result,
    )


def _collection(client: SciCatClient) -> str:
    name = "jobs" if client.jobs_api_version == 4 else "Jobs"
    return f"{client.jobs_url}/{name}"


def list_jobs(
    client: SciCatClient, job_type: str, status: str, page_size: int = 100
) -> Iterator[SciCatJob]:
    """Every job of `job_type` in `status`, oldest first, fetched page by page."""
    skip = 0
    while True:
        limits = {"skip": skip, "limit": page_size}
        if client.jobs_api_version == 4:
            where = {"type": job_type, "statusCode": status}
            params = {"filter": json.dumps({"where": where, "limits": limits})}
            url = _collection(client)
        else:
            fields = {"type": job_type, "jobStatusMessage": status}
            params = {"fields": json.dumps(fields), "limits": json.dumps(limits)}
            url = f"{_collection(client)}/fullquery"
        page = client.send("GET", url, params=params).json()
        if not isinstance(page, list):
            raise SciCatError(f"GET {url} answered {type(page).__name__}, expected a list")
        for item in page:
            yield parse_job(item, client.jobs_api_version)
        if len(page) < page_size:
            return
        skip += page_size


def get_job(client: SciCatClient, job_id: str) -> SciCatJob:
    """One job by id."""
    response = client.send("GET", f"{_collection(client)}/{quote_segment(job_id)}")
    return parse_job(response.json(), client.jobs_api_version)


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
    client.send("PATCH", f"{_collection(client)}/{quote_segment(job_id)}", json_body=body)
