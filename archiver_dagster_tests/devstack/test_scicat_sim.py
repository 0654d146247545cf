"""The SciCat simulator over real HTTP: login, tokens, datasets, lifecycle, (orig)datablocks."""

import time

import pytest
import requests
from scicat_sdk_py.models import ReturnedAuthLoginDto

from archiver_dagster_tests.devstack.test_scicat_sim_support import (
    PASSWORD,
    PID,
    USER,
    Api,
    data_file,
    datablock_body,
    dataset_body,
    encoded,
)
from devstack.scicat_sim import SciCatSimulator

DS = f"/api/v3/datasets/{encoded(PID)}"


def test_login_with_json_answers_a_token_shaped_like_the_sdk_model(sim: SciCatSimulator) -> None:
    response = requests.post(
        f"{sim.url}/api/v3/auth/login",
        json={"username": USER, "password": PASSWORD},
        timeout=5,
    )
    assert response.status_code == 201
    answer = ReturnedAuthLoginDto.from_dict(response.json())
    assert answer is not None
    assert answer.user_id == USER and answer.expires_in == 3600.0 and answer.access_token


def test_login_exists_in_v3_only_as_in_the_openapi(sim: SciCatSimulator) -> None:
    body = {"username": USER, "password": PASSWORD}
    response = requests.post(f"{sim.url}/api/v4/auth/login", json=body, timeout=5)
    assert response.status_code == 404
    assert response.json()["message"] == "Cannot POST /api/v4/auth/login"


def test_login_with_form_data_works_and_the_token_is_accepted(sim: SciCatSimulator) -> None:
    response = requests.post(
        f"{sim.url}/api/v3/auth/login", data={"username": USER, "password": PASSWORD}, timeout=5
    )
    assert response.status_code == 201
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert requests.get(f"{sim.url}{DS}", headers=headers, timeout=5).status_code == 404


@pytest.mark.parametrize("username,password", [(USER, "wrong"), ("nobody", PASSWORD)])
def test_login_with_bad_credentials_is_401(
    sim: SciCatSimulator, username: str, password: str
) -> None:
    response = requests.post(
        f"{sim.url}/api/v3/auth/login",
        json={"username": username, "password": password},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": "Unauthorized"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_missing_or_unknown_token_is_401(sim: SciCatSimulator, headers: dict[str, str]) -> None:
    response = requests.get(f"{sim.url}{DS}", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": "Unauthorized"}


def test_expired_token_is_401(sim: SciCatSimulator) -> None:
    sim.token_ttl_s = 0.2
    api = Api(sim.url)
    assert api.get(DS).status_code == 404  # authenticated: the dataset just does not exist
    time.sleep(0.3)
    assert api.get(DS).status_code == 401


def test_dataset_with_slash_in_pid_is_created_and_read_through_v3_and_v4(api: Api) -> None:
    created = api.create_dataset()
    assert created["pid"] == PID
    assert created["datasetlifecycle"]["archivable"] is True
    assert created["datasetlifecycle"]["archiveStatusMessage"] == "isOnCentralDisk"
    for path in (DS, f"/api/v4/datasets/{encoded(PID)}", f"/api/v3/Datasets/{encoded(PID)}"):
        response = api.get(path)
        assert response.status_code == 200 and response.json()["pid"] == PID
    assert api.get(f"/api/v3/datasets/{PID}").status_code == 404  # slash not encoded


def test_dataset_without_pid_gets_one_and_a_taken_pid_is_409(api: Api) -> None:
    response = api.post("/api/v3/datasets", json=dataset_body(pid=None))
    assert response.status_code == 201
    assert response.json()["pid"].startswith("20.500.12269/")
    api.create_dataset()
    assert api.post("/api/v3/datasets", json=dataset_body()).status_code == 409


@pytest.mark.parametrize("field", ["type", "ownerGroup", "owner", "contactEmail", "creationTime"])
def test_dataset_create_requires_field(api: Api, field: str) -> None:
    body = dataset_body()
    del body[field]
    response = api.post("/api/v3/datasets", json=body)
    assert response.status_code == 400
    assert any(field in message for message in response.json()["message"])


def test_lifecycle_patch_merges_only_the_given_fields(api: Api, sim: SciCatSimulator) -> None:
    api.create_dataset()
    response = api.patch(f"{DS}/datasetlifecycle", json={"archiveStatusMessage": "started"})
    assert response.status_code == 200
    lifecycle = response.json()  # the lifecycle alone (UpdateDatasetLifecycleDto), no dataset
    assert lifecycle["archiveStatusMessage"] == "started" and lifecycle["archivable"] is True
    assert "pid" not in lifecycle
    update = {"archivable": False, "retrievable": True, "archiveReturnMessage": {"any": "json"}}
    api.patch(f"{DS}/datasetlifecycle", json=update)
    stored = sim.dataset(PID)
    assert stored is not None
    assert stored["datasetlifecycle"]["archiveStatusMessage"] == "started"
    assert stored["datasetlifecycle"]["retrievable"] is True
    assert stored["datasetlifecycle"]["archiveReturnMessage"] == {"any": "json"}
    not_an_object = {"archiveReturnMessage": ["a", "list"]}
    assert api.patch(f"{DS}/datasetlifecycle", json=not_an_object).status_code == 400


def test_dataset_patch_with_lifecycle_replaces_it_resetting_other_fields(api: Api) -> None:
    api.create_dataset()
    api.patch(f"{DS}/datasetlifecycle", json={"retrievable": True, "archivable": False})
    body = {"description": "new", "datasetlifecycle": {"archiveStatusMessage": "started"}}
    response = api.patch(DS, json=body)
    assert response.status_code == 200
    dataset = response.json()
    assert dataset["description"] == "new" and dataset["owner"] == "Ada Lovelace"
    assert dataset["datasetlifecycle"]["archiveStatusMessage"] == "started"
    assert dataset["datasetlifecycle"]["retrievable"] is False  # reset to the default
    assert dataset["datasetlifecycle"]["archivable"] is True


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/api/v3/datasets", dataset_body() | {"colour": "red"}, "colour"),
        (f"{DS}/datasetlifecycle", {"archiveStatus": "x"}, "archiveStatus"),
        (f"{DS}/datablocks", datablock_body() | {"extra": 1}, "extra"),
        (
            f"{DS}/datablocks",
            datablock_body() | {"dataFileList": [data_file() | {"md5": "x"}]},
            "dataFileList.0.md5",
        ),
    ],
)
def test_unknown_field_is_400_naming_it(api: Api, path: str, body: dict, field: str) -> None:
    if path != "/api/v3/datasets":
        api.create_dataset()
    response = api.call("PATCH" if "lifecycle" in path else "POST", path, json=body)
    assert response.status_code == 400
    assert response.json()["message"] == [f"property {field} should not exist"]
    assert response.json()["error"] == "Bad Request"


def test_body_that_is_not_json_is_400(api: Api) -> None:
    response = api.post(
        "/api/v3/datasets", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["statusCode"] == 400


@pytest.mark.parametrize(
    "remove",
    [
        "archiveId",
        "size",
        "packedSize",
        "version",
        "dataFileList",
        "file:path",
        "file:size",
        "file:time",
    ],
)
def test_datablock_create_requires_field(api: Api, remove: str) -> None:
    api.create_dataset()
    body = datablock_body()
    if remove.startswith("file:"):
        del body["dataFileList"][0][remove[5:]]
    else:
        del body[remove]
    response = api.post(f"{DS}/datablocks", json=body)
    assert response.status_code == 400
    assert any(remove.split(":")[-1] in message for message in response.json()["message"])


@pytest.mark.parametrize(
    "change", [{"dataFileList": []}, {"size": "1024"}, {"archiveId": 7}, {"chkAlg": None}]
)
def test_datablock_with_empty_file_list_or_wrong_types_is_400(api: Api, change: dict) -> None:
    api.create_dataset()
    response = api.post(f"{DS}/datablocks", json=datablock_body() | change)
    expected = 201 if change == {"chkAlg": None} else 400  # chkAlg is optional
    assert response.status_code == expected


def test_duplicate_archive_id_is_409_even_on_another_dataset(api: Api) -> None:
    api.create_dataset()
    api.create_dataset(pid="20.500.11935/other")
    assert api.post(f"{DS}/datablocks", json=datablock_body("x.tar")).status_code == 201
    other = f"/api/v3/datasets/{encoded('20.500.11935/other')}/datablocks"
    response = api.post(other, json=datablock_body("x.tar"))
    assert response.status_code == 409
    assert (
        "archiveId" in response.json()["message"] and "already exists" in response.json()["message"]
    )


def test_datablock_of_unknown_dataset_is_404(api: Api) -> None:
    response = api.post(f"{DS}/datablocks", json=datablock_body())
    assert response.status_code == 404 and PID in response.json()["message"]


def test_datablocks_are_listed_and_deleted(api: Api, sim: SciCatSimulator) -> None:
    api.create_dataset()
    api.create_dataset(pid="20.500.11935/other")
    first = api.post(f"{DS}/datablocks", json=datablock_body("a.tar")).json()
    api.post(f"{DS}/datablocks", json=datablock_body("b.tar"))
    # `_id` as in the OpenAPI; Mongoose's `id` virtual is not promised, so it is not sent
    assert first["datasetId"] == PID and first["_id"] and first["createdAt"] and "id" not in first
    listed = api.get(f"{DS}/datablocks").json()
    assert [b["archiveId"] for b in listed] == ["a.tar", "b.tar"]
    v4_route = api.get(f"/api/v4/datasets/{encoded(PID)}/datablocks")
    assert v4_route.status_code == 404  # the v4 API has no such route
    other = f"/api/v3/datasets/{encoded('20.500.11935/other')}/datablocks/{first['_id']}"
    assert api.delete(other).status_code == 404  # not a block of that dataset
    assert api.delete(f"{DS}/datablocks/{first['_id']}").status_code == 200
    assert api.delete(f"{DS}/datablocks/{first['_id']}").status_code == 404
    assert [b["archiveId"] for b in sim.datablocks(PID)] == ["b.tar"]


def test_origdatablocks_are_created_and_listed(api: Api, sim: SciCatSimulator) -> None:
    api.create_dataset()
    body = {"size": 1024, "chkAlg": "md5", "dataFileList": [data_file()]}
    assert api.post(f"{DS}/origdatablocks", json=body | {"ownerGroup": "g"}).status_code == 400
    response = api.post(f"{DS}/origdatablocks", json=body)
    assert response.status_code == 201 and response.json()["datasetId"] == PID
    listed = api.get(f"{DS}/origdatablocks").json()
    assert [b["_id"] for b in listed] == [response.json()["_id"]]
    assert listed[0]["ownerGroup"] == "group-a"  # inherited from the dataset
    assert sim.origdatablocks(PID)[0]["dataFileList"][0]["path"] == "raw/a.bin"
    assert api.post(f"{DS}/origdatablocks", json=body | {"dataFileList": []}).status_code == 400


def test_unknown_routes_and_ids_are_404_json(api: Api) -> None:
    assert api.get("/api/v3/nothing").json()["statusCode"] == 404
    assert api.get("/api/v5/datasets").status_code == 404
    assert api.get(DS).json() == {
        "statusCode": 404,
        "message": f"Dataset {PID} not found",
        "error": "Not Found",
    }
    assert api.patch(f"{DS}/datasetlifecycle", json={}).status_code == 404
