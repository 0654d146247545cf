"""Datasets, their lifecycle and their (orig)datablocks, as the SciCat backend keeps them."""

import copy
import uuid
from http import HTTPStatus

from devstack.scicat_sim.errors import ApiError, not_found
from devstack.scicat_sim.models import (
    CreateDatablockDto,
    CreateDatasetDto,
    CreateOrigDatablockDto,
    LifecycleDto,
    UpdateDatasetDto,
)
from devstack.scicat_sim.store import JsonStore, Record, SimState
from devstack.scicat_sim.timestamps import now_iso

PID_PREFIX = "20.500.12269"

# The backend's schema defaults: a replaced lifecycle falls back to these for absent fields.
LIFECYCLE_DEFAULTS: Record = {
    "archivable": True,
    "retrievable": False,
    "publishable": False,
    "isOnCentralDisk": True,
    "archiveStatusMessage": "isOnCentralDisk",
    "retrieveStatusMessage": "",
    "archiveReturnMessage": {},
    "retrieveReturnMessage": {},
    "exportedTo": "",
    "retrieveIntegrityCheck": False,
}


def _lifecycle_fields(dto: LifecycleDto) -> Record:
    return dto.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _stamps(user: str) -> Record:
    now = now_iso()
    return {"createdBy": user, "updatedBy": user, "createdAt": now, "updatedAt": now}


def _touch(record: Record, user: str) -> None:
    record["updatedBy"] = user
    record["updatedAt"] = now_iso()


class DatasetRepository:
    """Creates, reads and updates datasets and their (orig)datablocks in the store."""

    def __init__(self, store: JsonStore) -> None:
        self._store = store

    @staticmethod
    def _dataset(state: SimState, pid: str) -> Record:
        dataset = state.datasets.get(pid)
        if dataset is None:
            raise not_found(f"Dataset {pid} not found")
        return dataset

    def find(self, pid: str) -> Record | None:
        """Returns a copy of the dataset, or None."""
        with self._store.read() as state:
            return copy.deepcopy(state.datasets.get(pid))

    def get(self, pid: str) -> Record:
        """Returns a copy of the dataset; 404 if it does not exist."""
        with self._store.read() as state:
            return copy.deepcopy(self._dataset(state, pid))

    def first(self, skip: int, limit: int) -> list[Record]:
        """Returns copies of datasets in creation order, paged."""
        with self._store.read() as state:
            return copy.deepcopy(list(state.datasets.values())[skip : skip + limit])

    def create(self, dto: CreateDatasetDto, user: str, api_version: str = "v3") -> Record:
        """Stores a new dataset with a default lifecycle; 409 if its pid is taken.

        `version` records the API version the dataset was created through, as the backend does.
        """
        record = dto.model_dump(mode="json", by_alias=True, exclude_none=True)
        pid = dto.pid or f"{PID_PREFIX}/{uuid.uuid4()}"
        lifecycle = _lifecycle_fields(dto.datasetlifecycle) if dto.datasetlifecycle else {}
        record.update(pid=pid, datasetlifecycle=LIFECYCLE_DEFAULTS | lifecycle, **_stamps(user))
        record["version"] = api_version
        with self._store.write() as state:
            if pid in state.datasets:
                raise ApiError(HTTPStatus.CONFLICT, f"Dataset with pid {pid} already exists")
            state.datasets[pid] = record
            return copy.deepcopy(record)

    def update(self, pid: str, dto: UpdateDatasetDto, user: str) -> Record:
        """Updates the given fields; a given `datasetlifecycle` replaces the stored one whole."""
        fields = dto.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if dto.datasetlifecycle is not None:
            fields["datasetlifecycle"] = LIFECYCLE_DEFAULTS | _lifecycle_fields(
                dto.datasetlifecycle
            )
        with self._store.write() as state:
            dataset = self._dataset(state, pid)
            dataset.update(fields)
            _touch(dataset, user)
            return copy.deepcopy(dataset)

    def update_lifecycle(self, pid: str, dto: LifecycleDto, user: str) -> Record:
        """Merges only the given lifecycle fields; returns the updated lifecycle.

        The answer is the lifecycle alone, as the backend's OpenAPI describes it
        (SDK `UpdateDatasetLifecycleDto`); clients must not read a dataset from it.
        """
        with self._store.write() as state:
            dataset = self._dataset(state, pid)
            dataset["datasetlifecycle"] = dataset.get("datasetlifecycle", {}) | _lifecycle_fields(
                dto
            )
            _touch(dataset, user)
            return copy.deepcopy(dataset["datasetlifecycle"])

    def _block_record(self, dataset: Record, fields: Record, user: str) -> Record:
        # The backend's OpenAPI (SDK `Datablock`, `OrigDatablock`) names the identifier `_id`
        # and has no `id`: the simulator answers `_id` only, so clients cannot rely on `id`.
        record: Record = {"_id": str(uuid.uuid4()), "datasetId": dataset["pid"]}
        record["ownerGroup"] = dataset.get("ownerGroup")
        record["accessGroups"] = dataset.get("accessGroups", [])
        record["isPublished"] = dataset.get("isPublished", False)
        record.update(fields)
        record.update(_stamps(user))
        return record

    def add_origdatablock(self, pid: str, dto: CreateOrigDatablockDto, user: str) -> Record:
        """Stores an origdatablock of the dataset; 404 if the dataset does not exist."""
        fields = dto.model_dump(mode="json", by_alias=True, exclude_none=True)
        with self._store.write() as state:
            record = self._block_record(self._dataset(state, pid), fields, user)
            state.origdatablocks[record["_id"]] = record
            return copy.deepcopy(record)

    def add_datablock(self, pid: str, dto: CreateDatablockDto, user: str) -> Record:
        """Stores a datablock; 404 without the dataset, 409 if its archiveId is already used."""
        fields = dto.model_dump(mode="json", by_alias=True, exclude_none=True)
        with self._store.write() as state:
            dataset = self._dataset(state, pid)
            if any(b["archiveId"] == dto.archive_id for b in state.datablocks.values()):
                raise ApiError(
                    HTTPStatus.CONFLICT,
                    f"Datablock with archiveId {dto.archive_id} already exists",
                )
            record = self._block_record(dataset, fields, user)
            state.datablocks[record["_id"]] = record
            return copy.deepcopy(record)

    def origdatablocks(self, pid: str, *, must_exist: bool = True) -> list[Record]:
        """Returns the dataset's origdatablocks, oldest first."""
        with self._store.read() as state:
            if must_exist:
                self._dataset(state, pid)
            blocks = [b for b in state.origdatablocks.values() if b["datasetId"] == pid]
            return copy.deepcopy(blocks)

    def datablocks(self, pid: str, *, must_exist: bool = True) -> list[Record]:
        """Returns the dataset's datablocks, oldest first."""
        with self._store.read() as state:
            if must_exist:
                self._dataset(state, pid)
            blocks = [b for b in state.datablocks.values() if b["datasetId"] == pid]
            return copy.deepcopy(blocks)

    def delete_datablock(self, pid: str, block_id: str) -> Record:
        """Deletes a datablock of the dataset; 404 if either does not exist."""
        with self._store.write() as state:
            self._dataset(state, pid)
            block = state.datablocks.get(block_id)
            if block is None or block["datasetId"] != pid:
                raise not_found(f"Datablock {block_id} of dataset {pid} not found")
            del state.datablocks[block_id]
            return block

    def file_paths(self, pid: str) -> set[str]:
        """Returns the paths of every file in the dataset's origdatablocks."""
        return {
            f["path"]
            for block in self.origdatablocks(pid, must_exist=False)
            for f in block["dataFileList"]
        }
