"""A read-only preflight of a SciCat instance: does it answer every request the archiver sends?

It logs in, reads one dataset with its origdatablocks and datablocks, and lists archive and
retrieve jobs through the configured jobs API; it sends nothing that changes SciCat. Each
endpoint gets one result: ok, or what differs (route missing, auth refused, a field we need
absent or of another type, unreachable).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from archiver_dagster.scicat.answers import parse_list
from archiver_dagster.scicat.client import (
    DatasetNotFoundError,
    SciCatClient,
    SciCatError,
)
from archiver_dagster.scicat.job_api import JobType, jobs_collection_url, list_jobs
from archiver_dagster.scicat.models import Dataset

JOBS_SHOWN = 100


@dataclass(frozen=True)
class EndpointCheck:
    """The result of one endpoint: its name, the request, and ok or what differs."""

    name: str
    request: str
    ok: bool
    detail: str

    def line(self) -> str:
        """One line for the operator: `ok   login  POST …/auth/login: …`."""
        return f"{'ok' if self.ok else 'FAIL':<4}  {self.name:<15} {self.request}: {self.detail}"


def explain(error: SciCatError | DatasetNotFoundError) -> str:
    """What a failed request tells an operator: route missing, auth refused, or the message."""
    text = str(error)
    if isinstance(error, DatasetNotFoundError):
        return f"not found: {text}"
    if error.status == 404 and "Cannot " in text:
        return f"route missing (HTTP 404): {text}"
    if error.status in (401, 403):
        return f"auth refused (HTTP {error.status}): {text}"
    return text


def _check(name: str, request: str, call: Callable[[], str]) -> EndpointCheck:
    try:
        return EndpointCheck(name, request, True, call())
    except (SciCatError, DatasetNotFoundError) as error:
        return EndpointCheck(name, request, False, explain(error))


def first_dataset_pid(client: SciCatClient) -> str:
    """The PID of the first dataset SciCat lists (`GET /datasets?filter=` with limit 1)."""
    url = f"{client.base_url}/datasets"
    query = {"filter": json.dumps({"limits": {"limit": 1, "skip": 0}})}
    datasets = parse_list(Dataset, client.send("GET", url, params=query))
    if not datasets:
        raise SciCatError(f"GET {url} listed no dataset: pass --pid to name one")
    return datasets[0].pid


def _dataset_checks(client: SciCatClient, pid: str) -> list[EndpointCheck]:
    request = f"GET {client.base_url}/datasets/{{pid}}"

    def dataset() -> str:
        lifecycle = client.get_dataset(pid).datasetlifecycle
        return f"{pid} (archiveStatusMessage {lifecycle.archive_status_message!r})"

    def origdatablocks() -> str:
        blocks = client.get_origdatablocks(pid)
        files = sum(len(block.data_file_list) for block in blocks)
        return f"{len(blocks)} origdatablocks, {files} files"

    def datablocks() -> str:
        return f"{len(client.get_datablocks(pid))} datablocks"

    return [
        _check("dataset", request, dataset),
        _check("origdatablocks", f"{request}/origdatablocks", origdatablocks),
        _check("datablocks", f"{request}/datablocks", datablocks),
    ]


def _chosen_dataset(client: SciCatClient, pid: str | None) -> tuple[list[EndpointCheck], str]:
    """The PID to read (given, or SciCat's first dataset) and the check of that listing."""
    if pid:
        return [], pid
    request = f"GET {client.base_url}/datasets"
    try:
        first = first_dataset_pid(client)
    except SciCatError as error:
        return [EndpointCheck("datasets", request, False, explain(error))], ""
    return [EndpointCheck("datasets", request, True, f"first dataset {first}")], first


def _job_checks(client: SciCatClient, submitted_status: str) -> list[EndpointCheck]:
    version = client.jobs_api_version
    request = f"GET {jobs_collection_url(client)}" + ("/fullquery" if version == 3 else "")
    checks = []
    for job_type in (JobType.ARCHIVE, JobType.RETRIEVE):

        def listing(job_type: str = job_type) -> str:
            jobs = list(islice(list_jobs(client, job_type, submitted_status), JOBS_SHOWN))
            shown = f"{len(jobs)}+" if len(jobs) == JOBS_SHOWN else str(len(jobs))
            return f"v{version}, {shown} {job_type} jobs in {submitted_status!r}"

        checks.append(_check(f"{job_type} jobs", request, listing))
    return checks


def run_preflight(
    client: SciCatClient, pid: str | None, submitted_status: str
) -> list[EndpointCheck]:
    """Checks every endpoint the archiver needs, read-only; later checks need the login."""
    login = _check("login", f"POST {client.base_url}/auth/login", _login(client))
    if not login.ok:
        skipped = ("dataset", "origdatablocks", "datablocks", "archive jobs", "retrieve jobs")
        return [login] + [
            EndpointCheck(n, "-", False, "not checked: login failed") for n in skipped
        ]
    listing, chosen = _chosen_dataset(client, pid)
    datasets = _dataset_checks(client, chosen) if chosen else []
    return [login, *listing, *datasets, *_job_checks(client, submitted_status)]


def _login(client: SciCatClient) -> Callable[[], str]:
    def call() -> str:
        client.login()
        return "token received"

    return call
