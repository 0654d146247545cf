"""Seeds the local stack: a dataset's files in the landing zone and its SciCat registration."""

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from botocore.client import BaseClient

SEED_OWNER_GROUP = "p-demo"


@dataclass(frozen=True)
class SampleFile:
    """A generated file: deterministic pseudo-random content from `seed`, and its attributes.

    `uid`, `gid` and `perm` are registered as given (`None`: not registered), as an ingestor
    writes what it saw on the file system; `chk`, if given, is registered instead of the
    checksum of the content.
    """

    path: str
    size: int
    seed: int = 0
    uid: str | None = "1000"
    gid: str | None = "1000"
    perm: str | None = "-rw-r--r--"
    chk: str | None = None

    def content(self) -> bytes:
        """The file's bytes."""
        return random.Random(f"{self.path}:{self.seed}").randbytes(self.size)

    def md5(self) -> str:
        """md5 of the content."""
        return hashlib.md5(self.content(), usedforsecurity=False).hexdigest()


def sample_files(count: int, size: int, folder: str = "raw") -> list[SampleFile]:
    """`count` files of `size` bytes spread over a few nested folders."""
    return [
        SampleFile(path=f"{folder}/run_{index % 3}/frame_{index:05d}.bin", size=size, seed=index)
        for index in range(count)
    ]


class SciCatSeeder:
    """Registers datasets and origdatablocks over HTTP, as an ingestor would."""

    def __init__(self, endpoint: str, username: str, password: str, api_prefix: str = "/api/v3"):
        self.base = endpoint.rstrip("/") + api_prefix
        self.session = requests.Session()
        login = self.session.post(
            f"{self.base}/auth/login", json={"username": username, "password": password}, timeout=10
        )
        login.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs a JSON body; raises with SciCat's answer unless it succeeded."""
        response = self.session.post(f"{self.base}{path}", json=body, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
        return response.json()

    def create_dataset(
        self, pid: str, files: Iterable[SampleFile], chk_alg: str | None = "md5"
    ) -> None:
        """Creates a raw dataset and one origdatablock listing `files` (`dataset_bodies`)."""
        dataset, block = dataset_bodies(pid, files, chk_alg)
        self.post("/datasets", dataset)
        self.post(f"/datasets/{quote(pid, safe='')}/origdatablocks", block)


def dataset_bodies(
    pid: str, files: Iterable[SampleFile], chk_alg: str | None = "md5"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bodies registering a raw dataset and one origdatablock listing `files`.

    Like an ingestor, it registers each file's checksum (`chk`) in `chk_alg` (a hashlib name
    unless every file carries its own `chk`); `None` registers no checksums.
    """
    now = datetime.now(UTC).isoformat()
    file_list = list(files)
    dataset = {
        "pid": pid,
        "type": "raw",
        "owner": "Demo Owner",
        "ownerGroup": SEED_OWNER_GROUP,
        "contactEmail": "owner@example.org",
        "sourceFolder": f"/data/{pid}",
        "creationTime": now,
        "datasetName": f"sample {pid}",
    }
    block: dict[str, Any] = {
        "size": sum(file.size for file in file_list),
        "dataFileList": [_data_file(file, now, chk_alg) for file in file_list],
    }
    if chk_alg is not None:
        block["chkAlg"] = chk_alg
    return dataset, block


def _data_file(file: SampleFile, time: str, chk_alg: str | None) -> dict[str, Any]:
    """The origdatablock entry of a sample file; attributes that are `None` are left out."""
    entry: dict[str, Any] = {"path": file.path, "size": file.size, "time": time}
    chk = file.chk
    if chk is None and chk_alg is not None:
        chk = hashlib.new(chk_alg, file.content(), usedforsecurity=False).hexdigest()
    attributes = {"uid": file.uid, "gid": file.gid, "perm": file.perm, "chk": chk}
    entry.update({key: value for key, value in attributes.items() if value is not None})
    return entry


def create_job(seeder: "SciCatSeeder", job_type: str, pids: list[str]) -> str:
    """Creates a SciCat job (v3 `POST /Jobs`) as a user asking to archive or retrieve; its id."""
    body = {
        "type": job_type,
        "datasetList": [{"pid": pid, "files": []} for pid in pids],
        "emailJobInitiator": "owner@example.org",
    }
    return str(seeder.post("/Jobs", body)["id"])


def upload_files(
    s3: BaseClient, bucket: str, prefix: str, pid: str, files: Iterable[SampleFile]
) -> int:
    """Uploads the files under `{prefix}/datasets/{pid}/raw_files/`; returns bytes uploaded."""
    total = 0
    for file in files:
        key = f"{prefix}/datasets/{pid}/raw_files/{file.path}"
        s3.put_object(Bucket=bucket, Key=key, Body=file.content())
        total += file.size
    return total
