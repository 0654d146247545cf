"""Shared helpers of the SciCat simulator tests (no tests here; a conftest is out of scope)."""

from typing import Any
from urllib.parse import quote

import requests

USER, PASSWORD = "archiver", "archiver-password"
PID = "20.500.11935/0f2c-4a1b-9d3e"


def encoded(pid: str) -> str:
    """Percent-encodes a pid as one path segment (`/` becomes `%2F`)."""
    return quote(pid, safe="")


def login(url: str, version: str = "v3") -> str:
    """Logs in with the default account and returns the access token."""
    response = requests.post(
        f"{url}/api/{version}/auth/login", json={"username": USER, "password": PASSWORD}, timeout=5
    )
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


class Api:
    """A logged-in HTTP client of one simulator; paths start with `/api/...`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {login(url)}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Sends one request with the bearer token."""
        return self.session.request(method, self.url + path, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """Sends a GET."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """Sends a POST."""
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        """Sends a PATCH."""
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        """Sends a DELETE."""
        return self.call("DELETE", path, **kwargs)

    def create_dataset(self, pid: str = PID, **fields: Any) -> dict[str, Any]:
        """Creates a dataset through v3 and returns it."""
        response = self.post("/api/v3/datasets", json=dataset_body(pid) | fields)
        assert response.status_code == 201, response.text
        return dict(response.json())


def dataset_body(pid: str | None = PID) -> dict[str, Any]:
    """A valid `POST /datasets` body."""
    body: dict[str, Any] = {
        "type": "raw",
        "ownerGroup": "group-a",
        "owner": "Ada Lovelace",
        "contactEmail": "ada@example.org",
        "sourceFolder": "/data/run1",
        "creationTime": "2025-01-02T03:04:05Z",
        "datasetName": "run 1",
        "size": 1024,
        "numberOfFiles": 2,
    }
    if pid is not None:
        body["pid"] = pid
    return body


def data_file(path: str = "raw/a.bin") -> dict[str, Any]:
    """A valid data-file entry."""
    return {"path": path, "size": 512, "time": "2025-01-02T03:04:05Z", "chk": "d41d8cd9"}


def datablock_body(archive_id: str = "openem/datablocks/a_0.tar") -> dict[str, Any]:
    """A valid `POST /datasets/{pid}/datablocks` body."""
    return {
        "archiveId": archive_id,
        "size": 1024,
        "packedSize": 2048,
        "chkAlg": "md5",
        "version": "1.0",
        "dataFileList": [data_file("raw/a.bin"), data_file("raw/b.bin")],
    }


def job_v4_body(pid: str = PID, job_type: str = "archive") -> dict[str, Any]:
    """A valid `POST /api/v4/jobs` body."""
    return {
        "type": job_type,
        "ownerGroup": "group-a",
        "jobParams": {"datasetList": [{"pid": pid, "files": []}]},
    }


def job_v3_body(pid: str = PID, job_type: str = "archive") -> dict[str, Any]:
    """A valid `POST /api/v3/Jobs` body."""
    return {"type": job_type, "datasetList": [{"pid": pid, "files": []}]}
