"""The SciCat simulator's own machinery: SDK payloads, persistence, faults, log, helpers, CLI."""

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import BaseModel, ValidationError
from scicat_sdk_py.models import (
    CreateDatasetDatablockDto,
    CreateDatasetDto,
    CreateDatasetOrigDatablockDto,
    CreateJobDto,
    CreateJobDtoV3,
    DataFile,
    PartialUpdateDatasetLifecycleDto,
    UpdateJobDto,
    UpdateJobDtoV3,
)

from archiver_dagster_tests.devstack.test_scicat_sim_support import (
    PID,
    Api,
    datablock_body,
    dataset_body,
    encoded,
    job_v3_body,
    job_v4_body,
    login,
)
from devstack.repository import python_path_env
from devstack.scicat_sim import RecordedRequest, SciCatSimulator

DS = f"/api/v3/datasets/{encoded(PID)}"
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def sdk_json(model: BaseModel) -> dict[str, Any]:
    """Serialises an SDK model the way a client built on the SDK sends it."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def test_payloads_built_with_the_sdk_models_are_accepted(api: Api, sim: SciCatSimulator) -> None:
    dataset = CreateDatasetDto.model_validate(
        dataset_body() | {"creationTime": WHEN, "techniques": None}
    )
    assert api.post("/api/v4/datasets", json=sdk_json(dataset)).status_code == 201
    files = [DataFile(path="raw/a.bin", size=5, time=WHEN, chk="abc", uid="1000", perm="644")]
    orig = CreateDatasetOrigDatablockDto.model_validate({"size": 5, "dataFileList": files})
    assert api.post(f"{DS}/origdatablocks", json=sdk_json(orig)).status_code == 201
    block = CreateDatasetDatablockDto.model_validate(datablock_body() | {"dataFileList": files})
    assert api.post(f"{DS}/datablocks", json=sdk_json(block)).status_code == 201
    lifecycle = PartialUpdateDatasetLifecycleDto(archivable=False, retrievable=True)
    assert api.patch(f"{DS}/datasetlifecycle", json=sdk_json(lifecycle)).status_code == 200
    v4 = CreateJobDto.model_validate(job_v4_body())
    job_v4 = api.post("/api/v4/jobs", json=sdk_json(v4)).json()
    update_v4 = UpdateJobDto.model_validate({"statusCode": "inProgress", "statusMessage": "run"})
    assert api.patch(f"/api/v4/jobs/{job_v4['id']}", json=sdk_json(update_v4)).status_code == 200
    v3 = CreateJobDtoV3.model_validate(job_v3_body())
    job_v3 = api.post("/api/v3/Jobs", json=sdk_json(v3)).json()
    update_v3 = UpdateJobDtoV3(jobStatusMessage="finishedSuccessful", executionTime=WHEN)
    response = api.patch(f"/api/v3/Jobs/{job_v3['id']}", json=sdk_json(update_v3))
    assert response.status_code == 200
    assert response.json()["executionTime"] == "2025-01-02T03:04:05Z"
    writes = [(r.method, r.status) for r in sim.requests if r.method != "GET"]
    assert writes == [("POST", 201)] * 4 + [("PATCH", 200)] + [("POST", 201), ("PATCH", 200)] * 2


def test_state_survives_a_restart_on_the_same_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with SciCatSimulator(state_file=state_file) as first:
        api = Api(first.url)
        api.create_dataset()
        block_id = api.post(f"{DS}/datablocks", json=datablock_body()).json()["_id"]
        job_id = api.post("/api/v4/jobs", json=job_v4_body()).json()["id"]
    assert json.loads(state_file.read_text())["datasets"][PID]["pid"] == PID
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
    with SciCatSimulator(state_file=state_file) as second:
        assert api.session.get(second.url + DS, timeout=5).status_code == 200  # token kept
        again = Api(second.url)
        assert [b["_id"] for b in again.get(f"{DS}/datablocks").json()] == [block_id]
        assert again.get(f"/api/v4/jobs/{job_id}").json()["statusCode"] == "jobSubmitted"
        assert again.post(f"{DS}/datablocks", json=datablock_body()).status_code == 409


def test_fail_next_answers_the_injected_status_for_matching_paths_only(
    api: Api, sim: SciCatSimulator
) -> None:
    api.create_dataset()
    sim.fail_next(2, status=503, path_contains="datablocks")
    assert api.get(DS).status_code == 200  # path does not match
    statuses = [api.post(f"{DS}/datablocks", json=datablock_body()).status_code for _ in range(3)]
    assert statuses == [503, 503, 201]
    sim.fail_next(1, status=500)
    assert api.get(DS).status_code == 500 and api.get(DS).status_code == 200
    assert [r.status for r in sim.requests[-5:]] == [503, 503, 201, 500, 200]


def test_concurrent_datablocks_with_one_archive_id_register_exactly_once(
    api: Api, sim: SciCatSimulator
) -> None:
    api.create_dataset()
    url = f"{sim.url}{DS}/datablocks"
    headers = dict(api.session.headers)

    def register(_: int) -> int:
        response = requests.post(url, json=datablock_body(), headers=headers, timeout=5)
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(register, range(8)))
    assert statuses == [201] + [409] * 7
    assert len(sim.datablocks(PID)) == 1


def test_requests_are_recorded_with_decoded_path_query_and_body(
    api: Api, sim: SciCatSimulator
) -> None:
    sim.clear_requests()
    api.patch(f"{DS}/datasetlifecycle", json={"archivable": False})
    api.get("/api/v4/jobs", params={"filter": '{"where":{}}'})
    lifecycle = f"/api/v3/datasets/{PID}/datasetlifecycle"
    not_found = {
        "statusCode": 404,
        "message": f"Dataset {PID} not found",
        "error": "Not Found",
    }
    assert sim.requests == [
        RecordedRequest(
            "PATCH",
            lifecycle,
            {},
            {"archivable": False},
            404,
            raw_path=lifecycle.replace(PID, encoded(PID)),
            response=not_found,
        ),
        RecordedRequest(
            "GET", "/api/v4/jobs", {"filter": '{"where":{}}'}, None, 200, "/api/v4/jobs", []
        ),
    ]


def test_seeding_helpers_validate_like_http_and_are_visible_over_http(
    api: Api, sim: SciCatSimulator
) -> None:
    seeded = sim.seed_dataset(dataset_body())
    assert api.get(DS).json()["pid"] == seeded["pid"] == PID
    sim.seed_origdatablock(PID, {"size": 1, "dataFileList": [datablock_body()["dataFileList"][0]]})
    assert len(api.get(f"{DS}/origdatablocks").json()) == 1
    job = sim.seed_job({"type": "archive", "datasetList": [{"pid": PID, "files": []}]}, 3)
    assert job["jobStatusMessage"] == "jobSubmitted"
    listed = api.get(f"/api/v4/jobs/{job['id']}").json()
    stored = sim.job(job["id"])
    assert stored is not None
    assert {k: v for k, v in stored.items() if k not in ("accessGroups", "isPublished")} == {
        k: v for k, v in listed.items() if k not in ("datasets", "datasetDetails")
    }
    with pytest.raises(ValidationError):
        sim.seed_dataset(dataset_body() | {"unknown": 1})
    assert sim.dataset("missing") is None and sim.job("missing") is None
    assert sim.datablocks("missing") == [] and sim.origdatablocks("missing") == []
    closed = sim.set_job_status(job["id"], "finishedUnsuccessful", "ended by an operator")
    assert closed["statusCode"] == "finishedUnsuccessful"
    assert api.get(f"/api/v4/jobs/{job['id']}").json()["statusMessage"] == "ended by an operator"


def test_stop_is_idempotent_and_closes_the_port() -> None:
    sim = SciCatSimulator()
    sim.start()
    url = sim.url
    assert url.startswith("http://127.0.0.1:") and not url.endswith("/")
    session = requests.Session()
    assert session.post(f"{url}/api/v3/auth/login", json={}).status_code == 400
    sim.stop()
    sim.stop()
    with pytest.raises(RuntimeError):
        _ = sim.url
    with pytest.raises(requests.ConnectionError):
        session.post(f"{url}/api/v3/auth/login", json={}, timeout=2)


def test_module_runs_in_the_foreground_and_stops_on_sigterm(tmp_path: Path) -> None:
    state_file = tmp_path / "cli-state.json"
    command = [sys.executable, "-m", "devstack.scicat_sim", "--port", "0"]
    command += ["--state-file", str(state_file), "--user", "archiver:archiver-password"]
    env = python_path_env(os.environ)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        login(url)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert "tokens" in json.loads(state_file.read_text())
