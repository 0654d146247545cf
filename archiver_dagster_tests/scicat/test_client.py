"""The SciCat client over real HTTP against the simulator: auth, retries, errors, DTOs."""

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import BaseModel
from scicat_sdk_py.models import (
    CreateDatasetDatablockDto,
    PartialUpdateDatasetLifecycleDto,
)
from scicat_sdk_py.models import DataFile as SdkDataFile

from archiver_dagster.archival.manifests import DatablockManifest, SourceFile
from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster.archival.registration import datablock_dto
from archiver_dagster.archive_record.members import MemberManifest
from archiver_dagster.errors import ErrorKind, UserError
from archiver_dagster.scicat.client import (
    DatasetNotFoundError,
    SciCatClient,
    SciCatError,
    SciCatNotFoundError,
)
from archiver_dagster.scicat.models import (
    ArchiveStatus,
    CreateDatablock,
    DataFile,
    LifecycleUpdate,
)
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster_tests.scicat.conftest import TIME, MakeClient, seed
from devstack.scicat_sim.recording import RecordedRequest
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack

LOGIN_PATH = "/api/v3/auth/login"


def body_of(request: RecordedRequest) -> dict[str, Any]:
    assert isinstance(request.body, dict)
    return request.body


class Log:
    """The simulator's requests made after a point in time."""

    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._start = len(stack.scicat.requests)

    def __call__(self) -> list[RecordedRequest]:
        return self._stack.scicat.requests[self._start :]

    def calls(self) -> list[tuple[str, str, int]]:
        return [(r.method, r.path, r.status) for r in self()]


def create_dto(pid: str, index: int = 0, time_value: str = TIME) -> CreateDatablock:
    return CreateDatablock(
        archive_id=DatasetLayout("openem-network", pid).archive_id(index),
        size=30,
        packed_size=10240,
        chk_alg="md5",
        version="1.0",
        data_file_list=[
            DataFile(path="raw/a.bin", size=10, time=time_value, chk="0" * 32, uid="1000"),
            DataFile(path="raw/b.bin", size=20, time=time_value, chk="1" * 32),
        ],
    )


def test_logs_in_on_first_call_only(stack: LocalStack, client: SciCatClient, dataset: str) -> None:
    log = Log(stack)
    assert log() == []  # constructing the client sends nothing
    assert client.get_dataset(dataset).pid == dataset
    assert client.get_dataset(dataset).owner_group == "p-group"
    path = f"/api/v3/datasets/{dataset}"
    assert log.calls() == [("POST", LOGIN_PATH, 201), ("GET", path, 200), ("GET", path, 200)]
    assert log()[0].body == {"username": SCICAT_USER, "password": SCICAT_PASSWORD}


def test_wrong_password_is_a_401_error(make_client: MakeClient, stack: LocalStack) -> None:
    log = Log(stack)
    client = make_client(password="wrong")
    with pytest.raises(SciCatError) as info:
        client.get_dataset("20.500.12345/any")
    assert info.value.status == 401
    assert f"POST {stack.scicat.url}{LOGIN_PATH} answered 401" in str(info.value)
    assert log.calls() == [("POST", LOGIN_PATH, 401)]  # no login loop


@pytest.mark.usefixtures("short_tokens")
def test_expired_token_is_renewed_transparently(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    log = Log(stack)
    client.get_dataset(dataset)
    time.sleep(1.1)  # the 1 s token has expired on the server
    client.get_dataset(dataset)
    methods = [(method, path) for method, path, _ in log.calls()]
    assert methods == [
        ("POST", LOGIN_PATH),
        ("GET", f"/api/v3/datasets/{dataset}"),
        ("POST", LOGIN_PATH),
        ("GET", f"/api/v3/datasets/{dataset}"),
    ]
    assert all(status in (200, 201) for _, _, status in log.calls())


def test_401_triggers_one_relogin_and_succeeds(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    client.get_dataset(dataset)  # logged in
    log = Log(stack)
    stack.scicat.fail_next(1, status=401, path_contains=dataset)
    assert client.get_dataset(dataset).pid == dataset
    path = f"/api/v3/datasets/{dataset}"
    assert log.calls() == [("GET", path, 401), ("POST", LOGIN_PATH, 201), ("GET", path, 200)]


def test_second_401_in_a_row_is_an_error(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    client.get_dataset(dataset)
    log = Log(stack)
    stack.scicat.fail_next(2, status=401, path_contains=dataset)
    with pytest.raises(SciCatError) as info:
        client.get_dataset(dataset)
    assert info.value.status == 401
    assert [status for _, _, status in log.calls()] == [401, 201, 401]


def test_503s_are_retried(stack: LocalStack, client: SciCatClient, dataset: str) -> None:
    client.get_dataset(dataset)
    log = Log(stack)
    stack.scicat.fail_next(2, status=503, path_contains=dataset)
    assert client.get_dataset(dataset).pid == dataset
    assert [status for _, _, status in log.calls()] == [503, 503, 200]


def test_persistent_500_raises_with_status(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client(retries=2)
    client.get_dataset(dataset)
    log = Log(stack)
    stack.scicat.fail_next(3, status=500, path_contains=dataset)
    with pytest.raises(SciCatError) as info:
        client.get_dataset(dataset)
    assert info.value.status == 500
    assert "answered 500" in str(info.value)
    assert "Injected fault" in str(info.value)  # the body is part of the message
    assert info.value.kind is ErrorKind.SYSTEM
    assert [status for _, _, status in log.calls()] == [500, 500, 500]  # 1 try + 2 retries


def test_unreachable_endpoint_fails_fast(make_client: MakeClient) -> None:
    client = make_client(endpoint="http://127.0.0.1:9", retries=1)
    started = time.monotonic()
    with pytest.raises(SciCatError) as info:
        client.get_dataset("20.500.12345/any")
    assert time.monotonic() - started < 3
    assert str(info.value).startswith(
        "SciCat unreachable: POST http://127.0.0.1:9/api/v3/auth/login"
    )
    assert info.value.status is None


@pytest.mark.parametrize("suffix", ["plain", "with space", "odd%2F?#&=+;chars", "ü/nested/ß"])
def test_pid_is_percent_encoded_whole(
    stack: LocalStack, client: SciCatClient, unique_pid: Callable[[], str], suffix: str
) -> None:
    pid = seed(stack, f"{unique_pid()}/{suffix}")
    log = Log(stack)
    assert client.get_dataset(pid).pid == pid
    (block,) = client.get_origdatablocks(pid)
    assert block.dataset_id == pid
    assert [r.path for r in log() if r.method == "GET"] == [
        f"/api/v3/datasets/{pid}",
        f"/api/v3/datasets/{pid}/origdatablocks",
    ]
    # The raw request path holds the PID encoded whole: a fault armed on that text fires.
    stack.scicat.fail_next(1, status=418, path_contains=f"/datasets/{quote(pid, safe='')}")
    with pytest.raises(SciCatError) as info:
        client.get_dataset(pid)
    assert info.value.status == 418


def test_unknown_dataset_is_a_user_error(client: SciCatClient, unique_pid) -> None:
    pid = unique_pid()
    with pytest.raises(DatasetNotFoundError) as info:
        client.get_dataset(pid)
    assert str(info.value) == f"dataset {pid!r} does not exist in SciCat"
    assert isinstance(info.value, UserError)
    assert isinstance(info.value.__cause__, SciCatNotFoundError)


def test_datablocks_of_unknown_dataset_is_not_found(client: SciCatClient, unique_pid) -> None:
    with pytest.raises(SciCatNotFoundError) as info:
        client.get_datablocks(unique_pid())
    assert info.value.status == 404


def test_get_origdatablocks(client: SciCatClient, dataset: str) -> None:
    (block,) = client.get_origdatablocks(dataset)
    assert block.dataset_id == dataset
    assert block.size == 30
    assert [(f.path, f.size, f.uid, f.perm) for f in block.data_file_list] == [
        ("raw/a.bin", 10, "1000", "0644"),
        ("raw/b.bin", 20, None, None),
    ]


def test_datablock_round_trip(stack: LocalStack, client: SciCatClient, dataset: str) -> None:
    assert client.get_datablocks(dataset) == []
    first = client.create_datablock(dataset, create_dto(dataset, 0))
    second = client.create_datablock(dataset, create_dto(dataset, 1))
    assert first.id != second.id
    assert first.dataset_id == dataset
    assert first.archive_id == DatasetLayout("openem-network", dataset).archive_id(0)
    assert (first.size, first.packed_size, first.chk_alg, first.version) == (
        30,
        10240,
        "md5",
        "1.0",
    )
    assert [f.chk for f in first.data_file_list] == ["0" * 32, "1" * 32]

    listed = client.get_datablocks(dataset)
    assert {block.id for block in listed} == {first.id, second.id}

    client.delete_datablock(dataset, first.id)
    assert [block.id for block in client.get_datablocks(dataset)] == [second.id]
    assert [block["_id"] for block in stack.scicat.datablocks(dataset)] == [second.id]
    client.delete_datablock(dataset, first.id)  # already gone: not an error
    client.delete_datablock("20.500.12345/no-such-dataset", second.id)  # nor this
    assert [block.id for block in client.get_datablocks(dataset)] == [second.id]


def test_create_sends_no_none_fields(stack: LocalStack, client: SciCatClient, dataset: str) -> None:
    log = Log(stack)
    client.create_datablock(dataset, create_dto(dataset))
    (post,) = [r for r in log() if r.method == "POST" and r.path.endswith("/datablocks")]
    assert body_of(post)["dataFileList"][1] == {
        "path": "raw/b.bin",
        "size": 20,
        "time": TIME,
        "chk": "1" * 32,
    }


def test_registering_the_same_datablock_again_returns_the_stored_one(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    first = client.create_datablock(dataset, create_dto(dataset))
    stack.scicat.clear_requests()

    again = client.create_datablock(dataset, create_dto(dataset))

    assert again.id == first.id and len(stack.scicat.datablocks(dataset)) == 1
    statuses = [(r.method, r.status) for r in stack.scicat.requests if "datablocks" in r.path]
    assert statuses == [("POST", 409), ("GET", 200)]  # SciCat refused a second one


def test_400_from_the_backend_is_surfaced(client: SciCatClient, dataset: str) -> None:
    # Our DataFile.time is a plain string; the backend validates it as a date.
    with pytest.raises(SciCatError) as info:
        client.create_datablock(dataset, create_dto(dataset, time_value="yesterday"))
    assert info.value.status == 400
    assert "dataFileList.0.time" in str(info.value)
    assert client.get_datablocks(dataset) == []


def test_unknown_field_is_a_400(client: SciCatClient, dataset: str) -> None:
    # CreateDatablock forbids unknown fields, so only a raw body through `send` can carry one.
    body = create_dto(dataset).model_dump(by_alias=True, exclude_none=True, mode="json")
    body["bogusField"] = 1
    url = f"{client.base_url}/datasets/{quote(dataset, safe='')}/datablocks"
    with pytest.raises(SciCatError) as info:
        client.send("POST", url, json_body=body)
    assert info.value.status == 400
    assert "property bogusField should not exist" in str(info.value)


def test_update_lifecycle_merges_fields(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    log = Log(stack)
    client.update_lifecycle(
        dataset, LifecycleUpdate(archive_status_message=ArchiveStatus.STARTED, retrievable=False)
    )
    client.update_lifecycle(dataset, LifecycleUpdate(archivable=False))
    stored = stack.scicat.dataset(dataset)
    assert stored is not None
    lifecycle = stored["datasetlifecycle"]
    assert lifecycle["archiveStatusMessage"] == "started"
    assert lifecycle["retrievable"] is False
    assert lifecycle["archivable"] is False
    seen = client.get_dataset(dataset).datasetlifecycle
    assert (seen.archive_status_message, seen.archivable, seen.retrievable) == (
        "started",
        False,
        False,
    )
    patches = [r.body for r in log() if r.method == "PATCH"]
    assert patches == [
        {"archiveStatusMessage": "started", "retrievable": False},
        {"archivable": False},
    ]


def test_update_lifecycle_of_unknown_dataset_is_not_found(client: SciCatClient, unique_pid) -> None:
    with pytest.raises(SciCatNotFoundError):
        client.update_lifecycle(unique_pid(), LifecycleUpdate(archivable=False))


def sdk_keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def test_datablock_body_is_an_sdk_create_datasetdatablock_dto(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    layout = DatasetLayout("openem-network", dataset)
    files = [
        SourceFile(path="raw/a.bin", size=10, time=TIME, uid="1000", gid="1000", perm="0644"),
        SourceFile(path="raw/b.bin", size=20, time=TIME),
    ]
    manifest = DatablockManifest(
        mode=ArchivalMode.ARCHIVE,
        index=0,
        archive_id=layout.archive_id(0),
        size=30,
        packed_size=10240,
        checksum="f" * 32,
        algorithm="md5",
        members=[
            MemberManifest(path="raw/a.bin", size=10, checksum="a" * 32),
            MemberManifest(path="raw/b.bin", size=20, checksum="b" * 32),
        ],
    )
    log = Log(stack)
    client.create_datablock(dataset, datablock_dto(manifest, {f.path: f for f in files}))
    (post,) = [r for r in log() if r.method == "POST" and r.path.endswith("/datablocks")]
    body = body_of(post)  # exactly what went over the wire

    sdk = CreateDatasetDatablockDto.from_dict(body)
    assert sdk is not None
    assert set(body) <= sdk_keys(CreateDatasetDatablockDto)
    assert set(body) == {"archiveId", "size", "packedSize", "chkAlg", "version", "dataFileList"}
    for entry in body["dataFileList"]:
        assert set(entry) <= sdk_keys(SdkDataFile)
    assert set(body["dataFileList"][0]) == {"path", "size", "time", "chk", "uid", "gid", "perm"}
    assert (sdk.archive_id, sdk.packed_size, sdk.chk_alg) == (layout.archive_id(0), 10240, "md5")
    assert [(f.path, f.chk) for f in sdk.data_file_list] == [
        ("raw/a.bin", "a" * 32),
        ("raw/b.bin", "b" * 32),
    ]


def test_lifecycle_body_is_an_sdk_partial_update_lifecycle_dto(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    update = LifecycleUpdate(
        archivable=False,
        retrievable=True,
        archive_status_message=ArchiveStatus.MISSING_FILES,
        retrieve_status_message="datasetRetrieved",
        archive_return_message={"errorKind": "user", "message": "2 of 3 files missing"},
        retrieve_return_message={"message": "ok"},
        retrieve_integrity_check=True,
    )
    log = Log(stack)
    client.update_lifecycle(dataset, update)
    (patch,) = [r for r in log() if r.method == "PATCH"]
    body = body_of(patch)

    sdk = PartialUpdateDatasetLifecycleDto.from_dict(body)
    assert sdk is not None
    assert set(body) <= sdk_keys(PartialUpdateDatasetLifecycleDto)
    assert len(body) == len(LifecycleUpdate.model_fields)  # every field was sent
    assert sdk.to_dict() == body
