"""The SciCat simulator's jobs over real HTTP: v3 and v4 create, query, paging, update, views."""

import json
from typing import Any

import pytest
from scicat_sdk_py.models import JobClass, OutputJobV3Dto, PartialOutputJobDto

from archiver_dagster_tests.devstack.test_scicat_sim_support import (
    PID,
    Api,
    data_file,
    encoded,
    job_v3_body,
    job_v4_body,
)
from devstack.scicat_sim import SciCatSimulator

V3, V4 = "/api/v3/Jobs", "/api/v4/jobs"


@pytest.fixture
def api(sim: SciCatSimulator) -> Api:
    """A logged-in client with the test dataset created (overrides the conftest's)."""
    client = Api(sim.url)
    client.create_dataset()
    return client


def fullquery(api: Api, fields: dict[str, Any], limits: dict[str, Any] | None = None) -> Any:
    params = {"fields": json.dumps(fields)}
    if limits is not None:
        params["limits"] = json.dumps(limits)
    response = api.get(f"{V3}/fullquery", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def v4_list(api: Api, query: dict[str, Any]) -> Any:
    response = api.get(V4, params={"filter": json.dumps(query)})
    assert response.status_code == 200, response.text
    return response.json()


def test_v3_job_is_created_read_and_valid_for_the_sdk_model(api: Api) -> None:
    response = api.post(V3, json=job_v3_body() | {"jobParams": {"tapeCopies": 2}})
    assert response.status_code == 201
    job = response.json()
    assert job["jobStatusMessage"] == "jobSubmitted"
    assert job["datasetList"] == [{"pid": PID, "files": []}]
    assert job["jobParams"] == {"tapeCopies": 2}
    assert set(job) <= set(OutputJobV3Dto.model_json_schema()["properties"])
    assert OutputJobV3Dto.from_dict(job) is not None
    for path in (f"{V3}/{job['id']}", f"/api/v3/jobs/{job['id']}"):
        assert api.get(path).json() == job


def test_v3_fullquery_filters_and_pages_in_creation_order(api: Api) -> None:
    ids = [api.post(V3, json=job_v3_body()).json()["id"] for _ in range(4)]
    api.post(V3, json=job_v3_body(job_type="retrieve"))
    query = {"type": "archive", "jobStatusMessage": "jobSubmitted"}
    assert [j["id"] for j in fullquery(api, query)] == ids
    assert [j["id"] for j in fullquery(api, query, {"skip": 1, "limit": 2})] == ids[1:3]
    newest_first = fullquery(api, query, {"limit": 1, "order": "creationTime:desc"})
    assert [j["id"] for j in newest_first] == [ids[-1]]
    assert len(fullquery(api, {"type": "retrieve"})) == 1


def test_v3_patch_sets_status_and_result_and_forbids_other_fields(api: Api) -> None:
    job_id = api.post(V3, json=job_v3_body()).json()["id"]
    update = {"jobStatusMessage": "inProgress", "jobResultObject": {"result": []}}
    response = api.patch(f"{V3}/{job_id}", json=update)
    assert response.status_code == 200
    assert response.json()["jobStatusMessage"] == "inProgress"
    assert response.json()["jobResultObject"] == {"result": []}
    assert fullquery(api, {"jobStatusMessage": "jobSubmitted"}) == []
    assert api.patch(f"{V3}/{job_id}", json={"datasetList": []}).status_code == 400
    assert api.patch(f"{V3}/unknown-id", json=update).status_code == 404


def test_v3_create_requires_dataset_list_of_existing_datasets(api: Api) -> None:
    assert api.post(V3, json={"type": "archive"}).status_code == 400
    response = api.post(V3, json=job_v3_body(pid="20.500.11935/missing"))
    assert response.status_code == 400 and "do not exist" in response.json()["message"]
    assert api.post(V3, json=job_v3_body() | {"ownerGroup": "g"}).status_code == 400


def test_v4_job_is_created_with_submitted_status_and_valid_for_the_sdk_model(api: Api) -> None:
    response = api.post(V4, json=job_v4_body())
    assert response.status_code == 201
    job = response.json()
    assert (job["statusCode"], job["statusMessage"]) == ("jobSubmitted", "Job submitted.")
    assert job["jobParams"]["datasetList"] == [{"pid": PID, "files": []}]
    assert JobClass.from_dict(job) is not None
    read = api.get(f"{V4}/{job['id']}").json()
    assert PartialOutputJobDto.from_dict(read) is not None
    assert read == {k: v for k, v in job.items() if k not in ("accessGroups", "isPublished")} | {
        "datasets": [],
        "datasetDetails": [],
    }
    assert api.get(f"{V4}/unknown-id").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"type": "archive", "ownerGroup": "g", "jobParams": {}},
        {"type": "archive", "ownerGroup": "g", "jobParams": {"datasetList": []}},
        {"type": "archive", "ownerGroup": "g", "jobParams": {"datasetList": [{"pid": PID}]}},
        job_v4_body(pid="20.500.11935/missing"),
        job_v4_body() | {"datasetList": []},
        {"type": "archive", "ownerGroup": "g"},
    ],
)
def test_v4_create_rejects_bad_bodies(api: Api, body: dict[str, Any]) -> None:
    assert api.post(V4, json=body).status_code == 400


def test_v4_create_checks_requested_files_against_origdatablocks(api: Api) -> None:
    origdatablock = {"size": 512, "dataFileList": [data_file("raw/a.bin")]}
    api.post(f"/api/v3/datasets/{encoded(PID)}/origdatablocks", json=origdatablock)
    body = job_v4_body(job_type="retrieve")
    body["jobParams"]["datasetList"][0]["files"] = ["raw/a.bin"]
    assert api.post(V4, json=body).status_code == 201
    body["jobParams"]["datasetList"][0]["files"] = ["raw/missing.bin"]
    assert api.post(V4, json=body).status_code == 400


def test_v4_filter_pages_and_orders(api: Api) -> None:
    ids = [api.post(V4, json=job_v4_body()).json()["id"] for _ in range(4)]
    where = {"type": "archive", "statusCode": "jobSubmitted"}
    assert [j["id"] for j in v4_list(api, {"where": where})] == ids
    page = v4_list(api, {"where": where, "limits": {"skip": 2, "limit": 5}})
    assert [j["id"] for j in page] == ids[2:]
    page = v4_list(api, {"where": where, "limits": {"limit": 2, "order": "createdAt:desc"}})
    assert [j["id"] for j in page] == ids[:1:-1]
    assert v4_list(api, {"where": {"type": "retrieve"}}) == []
    assert api.get(V4, params={"filter": "{broken"}).status_code == 400
    assert api.get(V4, params={"filter": json.dumps({"limits": {"skip": -1}})}).status_code == 400


@pytest.mark.parametrize(
    "update,status",
    [
        ({"statusCode": "inProgress"}, 400),
        ({"statusMessage": "working"}, 400),
        ({"statusCode": "inProgress", "statusMessage": "working", "extra": 1}, 400),
        ({"statusCode": "inProgress", "statusMessage": "working"}, 200),
    ],
)
def test_v4_patch_needs_both_status_code_and_message(
    api: Api, sim: SciCatSimulator, update: dict[str, str], status: int
) -> None:
    job_id = api.post(V4, json=job_v4_body()).json()["id"]
    assert api.patch(f"{V4}/{job_id}", json=update).status_code == status
    stored = sim.job(job_id)
    assert stored is not None
    assert stored["statusCode"] == ("inProgress" if status == 200 else "jobSubmitted")


def test_one_job_seen_through_both_versions(api: Api) -> None:
    job = api.post(V4, json=job_v4_body() | {"contactEmail": "ops@example.org"}).json()
    v3 = api.get(f"{V3}/{job['id']}").json()
    assert v3["jobStatusMessage"] == "jobSubmitted" and v3["datasetList"] == [
        {"pid": PID, "files": []}
    ]
    assert v3["emailJobInitiator"] == "ops@example.org" and v3["creationTime"] == job["createdAt"]
    api.patch(f"{V3}/{job['id']}", json={"jobStatusMessage": "finishedSuccessful"})
    v4 = api.get(f"{V4}/{job['id']}").json()
    assert (v4["statusCode"], v4["statusMessage"]) == ("finishedSuccessful", "finishedSuccessful")
    assert v4["updatedAt"] >= job["updatedAt"]
    created_v3 = api.post(V3, json=job_v3_body()).json()
    as_v4 = api.get(f"{V4}/{created_v3['id']}").json()
    assert as_v4["jobParams"]["datasetList"] == [{"pid": PID, "files": []}]
    where = {"where": {"statusCode": "jobSubmitted"}}
    assert [j["id"] for j in v4_list(api, where)] == [created_v3["id"]]
