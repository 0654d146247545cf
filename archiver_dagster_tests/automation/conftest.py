"""A fresh SciCat simulator per test: sensors list all submitted jobs, so tests must not share."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from archiver_dagster.scicat.resource import SciCatResource
from devstack.scicat_sim import SciCatSimulator

USER, PASSWORD = "archiver", "archiver-password"


@pytest.fixture
def scicat_sim() -> Iterator[SciCatSimulator]:
    with SciCatSimulator(users={USER: PASSWORD}) as sim:
        yield sim


def resource_for(sim: SciCatSimulator, version: int, **fields: Any) -> SciCatResource:
    return SciCatResource(
        endpoint=sim.url,
        username=USER,
        password=PASSWORD,
        retries=1,
        backoff_s=0.01,
        jobs_api_prefix=f"/api/v{version}",
        **fields,
    )


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
        self.post(
            "/api/v3/datasets",
            {
                "pid": pid,
                "type": "raw",
                "owner": "o",
                "ownerGroup": "g",
                "contactEmail": "o@x.org",
                "sourceFolder": "/d",
                "creationTime": "2026-01-01T00:00:00Z",
                "datasetName": pid,
            },
        )
        return pid

    def job(self, version: int, pids: list[str], job_type: str = "archive") -> str:
        entries = [{"pid": pid, "files": []} for pid in pids]
        if version == 3:
            body = {"type": job_type, "datasetList": entries, "emailJobInitiator": "o@x.org"}
            return self.post("/api/v3/Jobs", body)["id"]
        body = {"type": job_type, "jobParams": {"datasetList": entries}, "ownerGroup": "g"}
        return self.post("/api/v4/jobs", body)["id"]

    def status(self, version: int, job_id: str) -> tuple[str, str | None]:
        path = f"/api/v{version}/{'Jobs' if version == 3 else 'jobs'}/{job_id}"
        job = requests.get(f"{self.base}{path}", headers=self.headers, timeout=5).json()
        if version == 3:
            result = job.get("jobResultObject") or {}
            return job["jobStatusMessage"], result.get("message")
        return job["statusCode"], job.get("statusMessage")


@pytest.fixture
def scicat_user(scicat_sim: SciCatSimulator) -> SciCatUser:
    return SciCatUser(scicat_sim)


MakeResource = Callable[..., SciCatResource]
