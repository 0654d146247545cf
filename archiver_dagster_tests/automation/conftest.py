"""Fixtures of the sensor tests: a fresh SciCat per test (sensors list every submitted job).

Sensors are unit-tested (layer 2) on an ephemeral instance (`instance`) against the SciCat fake,
the simulator's backend without HTTP. `test_sensors_over_http.py` runs one test of each
behaviour again against the simulator over HTTP.
"""

from typing import Any

import pytest
import requests

from archiver_dagster.scicat.resource import SciCatResource
from devstack.scicat_fake import FakeSciCatResource, SciCatFake
from devstack.scicat_sim import SciCatSimulator

USER, PASSWORD = "archiver", "archiver-password"


@pytest.fixture
def scicat_sim() -> SciCatFake:
    """The simulated SciCat in memory: the simulator's backend, reached without HTTP."""
    return SciCatFake(users={USER: PASSWORD})


def resource_for(sim: SciCatFake | SciCatSimulator, version: int, **fields: Any) -> SciCatResource:
    """A sensor's SciCat resource on `sim`: in process for the fake, over HTTP otherwise."""
    settings: dict[str, Any] = {
        "username": USER,
        "password": PASSWORD,
        "retries": 1,
        "backoff_s": 0.01,
        "jobs_api_prefix": f"/api/v{version}",
        **fields,
    }
    if isinstance(sim, SciCatFake):
        return FakeSciCatResource(fake=sim, **settings)
    return SciCatResource(endpoint=sim.url, **settings)


def dataset_body(pid: str) -> dict[str, Any]:
    """The `POST /datasets` body of a raw dataset `pid`."""
    return {
        "pid": pid,
        "type": "raw",
        "owner": "o",
        "ownerGroup": "g",
        "contactEmail": "o@x.org",
        "sourceFolder": "/d",
        "creationTime": "2026-01-01T00:00:00Z",
        "datasetName": pid,
    }


def job_body(version: int, pids: list[str], job_type: str) -> dict[str, Any]:
    """The v3 or v4 `POST /jobs` body of a job on the datasets `pids`."""
    entries = [{"pid": pid, "files": []} for pid in pids]
    if version == 3:
        return {"type": job_type, "datasetList": entries, "emailJobInitiator": "o@x.org"}
    return {"type": job_type, "jobParams": {"datasetList": entries}, "ownerGroup": "g"}


class SciCatUser:
    """Creates datasets and jobs over HTTP, as a SciCat user would."""

    def __init__(self, sim: SciCatSimulator) -> None:
        self.base = sim.url
        token = requests.post(
            f"{sim.url}/api/v3/auth/login", json={"username": USER, "password": PASSWORD}, timeout=5
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.base}{path}", json=body, headers=self.headers, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    def dataset(self, pid: str) -> str:
        self.post("/api/v3/datasets", dataset_body(pid))
        return pid

    def job(self, version: int, pids: list[str], job_type: str = "archive") -> str:
        path = "/api/v3/Jobs" if version == 3 else "/api/v4/jobs"
        return str(self.post(path, job_body(version, pids, job_type))["id"])

    def status(self, version: int, job_id: str) -> tuple[str, str | None]:
        path = f"/api/v{version}/{'Jobs' if version == 3 else 'jobs'}/{job_id}"
        job = requests.get(f"{self.base}{path}", headers=self.headers, timeout=5).json()
        if version == 3:
            result = job.get("jobResultObject") or {}
            return job["jobStatusMessage"], result.get("message")
        return job["statusCode"], job.get("statusMessage")


class FakeSciCatUser:
    """Creates datasets and jobs in the fake, with the bodies `SciCatUser` posts."""

    def __init__(self, fake: SciCatFake) -> None:
        self.fake = fake

    def dataset(self, pid: str) -> str:
        self.fake.seed_dataset(dataset_body(pid))
        return pid

    def job(self, version: int, pids: list[str], job_type: str = "archive") -> str:
        body = job_body(version, pids, job_type)
        return str(self.fake.seed_job(body, api_version=3 if version == 3 else 4)["id"])

    def status(self, version: int, job_id: str) -> tuple[str, str | None]:
        job = self.fake.job(job_id)  # stored in the v4 shape; v3 reads jobResultObject.message
        assert job is not None
        if version == 3:
            return job["statusCode"], (job.get("jobResultObject") or {}).get("message")
        return job["statusCode"], job.get("statusMessage")


@pytest.fixture
def scicat_user(scicat_sim: SciCatFake) -> FakeSciCatUser:
    return FakeSciCatUser(scicat_sim)
