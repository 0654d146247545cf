"""Jobs as the SciCat backend keeps them: stored once in the v4 shape, created through v3 or v4."""

import copy
import uuid
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from devstack.scicat_sim.auth import user_email
from devstack.scicat_sim.datasets import DatasetRepository
from devstack.scicat_sim.errors import ApiError, not_found
from devstack.scicat_sim.job_models import (
    CreateJobV3Dto,
    CreateJobV4Dto,
    DatasetListEntry,
    UpdateJobV3Dto,
    UpdateJobV4Dto,
)
from devstack.scicat_sim.store import JsonStore, Record
from devstack.scicat_sim.timestamps import now_iso

SUBMITTED_CODE = "jobSubmitted"
SUBMITTED_MESSAGE = "Job submitted."
DATASET_JOB_TYPES = frozenset({"archive", "retrieve"})


def _bad_request(message: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, message)


class JobRepository:
    """Creates, reads and updates jobs; checks their dataset lists as the backend does."""

    def __init__(self, store: JsonStore, datasets: DatasetRepository) -> None:
        self._store = store
        self._datasets = datasets

    def find(self, job_id: str) -> Record | None:
        """Returns a copy of the stored job, or None."""
        with self._store.read() as state:
            return copy.deepcopy(state.jobs.get(job_id))

    def get(self, job_id: str) -> Record:
        """Returns a copy of the stored job; 404 if it does not exist."""
        job = self.find(job_id)
        if job is None:
            raise not_found(f"Job {job_id} not found")
        return job

    def all(self) -> list[Record]:
        """Returns copies of every stored job, oldest first."""
        with self._store.read() as state:
            return copy.deepcopy(list(state.jobs.values()))

    def _check_dataset_list(self, job_type: str, params: Record) -> None:
        if "datasetList" not in params:
            if job_type in DATASET_JOB_TYPES:
                raise _bad_request("Dataset ids list was not provided in jobParams")
            return
        raw = params["datasetList"]
        if not isinstance(raw, list):
            raise _bad_request("Invalid dataset list")
        if not raw:
            raise _bad_request("List of passed datasets is empty.")
        try:
            entries = [DatasetListEntry.model_validate(item) for item in raw]
        except ValidationError as error:
            message = "Dataset list is expected to contain sets of pid and files."
            raise _bad_request(message) from error
        missing = [e.pid for e in entries if self._datasets.find(e.pid) is None]
        if missing:
            raise _bad_request(f"Datasets with pid {','.join(missing)} do not exist.")
        for entry in entries:
            if set(entry.files) - self._datasets.file_paths(entry.pid):
                raise _bad_request("At least one requested file could not be found.")

    def _insert(self, user: str, fields: Record) -> Record:
        now = now_iso()
        job: Record = {
            "id": str(uuid.uuid4()),
            "createdBy": user,
            "updatedBy": user,
            "createdAt": now,
            "updatedAt": now,
            "accessGroups": [],
            "isPublished": False,
            "configVersion": "scicat-sim",
            "jobResultObject": {},
        }
        job.update(fields)
        with self._store.write() as state:
            state.jobs[job["id"]] = job
            return copy.deepcopy(job)

    def create_v4(self, dto: CreateJobV4Dto, user: str) -> Record:
        """Creates a job from a v4 body; it starts as `jobSubmitted`."""
        self._check_dataset_list(dto.type, dto.job_params)
        if not (dto.owner_group or dto.owner_user or dto.contact_email):
            raise _bad_request("Contact email should be specified for an anonymous job.")
        return self._insert(
            user,
            {
                "type": dto.type,
                "ownerUser": dto.owner_user or user,
                "ownerGroup": dto.owner_group,
                "contactEmail": dto.contact_email or user_email(user),
                "statusCode": SUBMITTED_CODE,
                "statusMessage": SUBMITTED_MESSAGE,
                "jobParams": dto.job_params,
            },
        )

    def create_v3(self, dto: CreateJobV3Dto, user: str) -> Record:
        """Creates a job from a v3 body, mapped to the v4 shape as the backend does."""
        extra = {k: v for k, v in (dto.job_params or {}).items() if k != "datasetList"}
        params: Record = {"datasetList": [e.model_dump() for e in dto.dataset_list], **extra}
        if dto.execution_time is not None:
            params["executionTime"] = dto.model_dump(mode="json")["execution_time"]
        self._check_dataset_list(dto.type, params)
        owner_group = extra.get("ownerGroup")
        if owner_group is None and dto.dataset_list:
            first = self._datasets.find(dto.dataset_list[0].pid) or {}
            owner_group = first.get("ownerGroup")
        fields: dict[str, Any] = {
            "type": dto.type,
            "ownerUser": user,
            "ownerGroup": owner_group,
            "contactEmail": dto.email_job_initiator or user_email(user),
            "statusCode": dto.job_status_message or SUBMITTED_CODE,
            "statusMessage": dto.job_status_message or SUBMITTED_MESSAGE,
            "jobParams": params,
        }
        if dto.job_result_object is not None:
            fields["jobResultObject"] = dto.job_result_object
        return self._insert(user, fields)

    def _update(self, job_id: str, user: str, fields: Record, params: Record) -> Record:
        with self._store.write() as state:
            job = state.jobs.get(job_id)
            if job is None:
                raise not_found(f"Job {job_id} not found")
            job.update(fields, updatedBy=user, updatedAt=now_iso())
            job["jobParams"] = job["jobParams"] | params
            return copy.deepcopy(job)

    def update_v4(self, job_id: str, dto: UpdateJobV4Dto, user: str) -> Record:
        """Sets the job's status code and message, and its result object if given."""
        fields: Record = {"statusCode": dto.status_code, "statusMessage": dto.status_message}
        if dto.job_result_object is not None:
            fields["jobResultObject"] = dto.job_result_object
        return self._update(job_id, user, fields, {})

    def update_v3(self, job_id: str, dto: UpdateJobV3Dto, user: str) -> Record:
        """Applies a v3 update: `jobStatusMessage` becomes both status code and message."""
        fields: Record = {}
        if dto.job_status_message:
            fields.update(statusCode=dto.job_status_message, statusMessage=dto.job_status_message)
        if dto.job_result_object is not None:
            fields["jobResultObject"] = dto.job_result_object
        params: Record = {}
        if dto.execution_time is not None:
            params["executionTime"] = dto.model_dump(mode="json")["execution_time"]
        return self._update(job_id, user, fields, params)
