"""HTTP client of the SciCat backend: login, datasets, (orig)datablocks, jobs; v3 and v4."""

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from archiver_dagster.scicat.answers import parse_answer, parse_list
from archiver_dagster.scicat.errors import (
    DatasetNotFoundError,
    SciCatError,
    SciCatNotFoundError,
)
from archiver_dagster.scicat.models import (
    CreateDatablock,
    Datablock,
    Dataset,
    LifecycleUpdate,
    LoginAnswer,
    OrigDatablock,
)
from archiver_dagster.scicat.retry import IDEMPOTENT_METHODS, CallRetry, call_budget
from archiver_dagster.transient import TRANSIENT_HTTP_STATUSES, RetryNotice, RetryObserver

MAX_BACKOFF_S = 60.0


def answer_may_be_lost(error: SciCatError) -> bool:
    """Whether a failed request may have been applied all the same (no answer, 5xx, 409)."""
    return error.status is None or error.status >= 500 or error.status == 409


def quote_segment(value: str) -> str:
    """Percent-encodes `value` whole for one URL path segment (a PID's `/` becomes `%2F`)."""
    return quote(value, safe="")


def build_session(retries: int, backoff_s: float) -> requests.Session:
    """A session that retries connection errors and 429/5xx answers with exponential backoff.

    Idempotent methods only (POST when the call says it is repeatable), within each call's
    budget (`scicat/retry.py`).
    """
    retry = CallRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_s,
        backoff_max=MAX_BACKOFF_S,
        backoff_jitter=backoff_s,  # requests failing together do not retry in lockstep
        status_forcelist=TRANSIENT_HTTP_STATUSES,
        allowed_methods=IDEMPOTENT_METHODS,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SciCatClient:
    """A logged-in SciCat session; the token is renewed when it expires.

    A context manager: leaving the `with` block closes its connections, however it is left.
    """

    def __init__(
        self,
        endpoint: str,
        api_prefix: str,
        jobs_api_prefix: str,
        username: str,
        password: str,
        timeout_s: float = 30.0,
        retries: int = 5,
        backoff_s: float = 0.5,
        call_budget_s: float = 25.0,
        on_retry: RetryObserver | None = None,
    ) -> None:
        self.base_url = endpoint.rstrip("/") + "/" + api_prefix.strip("/")
        self.jobs_url = endpoint.rstrip("/") + "/" + jobs_api_prefix.strip("/")
        self.jobs_api_version = 4 if jobs_api_prefix.rstrip("/").endswith("v4") else 3
        self._username = username
        self._password = password
        self._timeout_s = timeout_s
        self._session = build_session(retries, backoff_s)
        self._retries = retries
        self._backoff_s = backoff_s
        self._call_budget_s = call_budget_s
        self._on_retry = on_retry
        self.transient_faults = 0  # retries this client needed: faults it rode out
        self._token: str | None = None
        self._token_expiry = 0.0
        self.closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _retrying(self, notice: RetryNotice) -> None:
        self.transient_faults += 1
        if self._on_retry is not None:
            self._on_retry(notice)

    def close(self) -> None:
        """Closes the underlying HTTP connections."""
        self._session.close()
        self.closed = True

    def login(self) -> None:
        """Logs in now (otherwise the first request does); raises `SciCatError` if refused."""
        self._login()

    def _login(self) -> str:
        response = self.send(
            "POST",
            f"{self.base_url}/auth/login",
            json_body={"username": self._username, "password": self._password},
            authenticated=False,
            repeatable_post=True,  # a second login only issues a second token
        )
        answer = parse_answer(LoginAnswer, response)
        token = answer.access_token
        # The SDK's ReturnedAuthLoginDto always has expires_in; an hour if a backend omits it.
        expires_in = answer.expires_in or 3600.0
        self._token = token
        # Renew a little early so a token never expires between check and use.
        self._token_expiry = time.monotonic() + max(expires_in - 30, expires_in / 2)
        return token

    def _auth_header(self) -> dict[str, str]:
        token = self._token
        if token is None or time.monotonic() >= self._token_expiry:
            token = self._login()
        return {"Authorization": f"Bearer {token}"}

    def send(
        self,
        method: str,
        url: str,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        authenticated: bool = True,
        repeatable_post: bool = False,
    ) -> requests.Response:
        """Sends one request (retried on 429/5xx; one re-login on 401); raises `SciCatError`.

        Retries end with the call's budget: the call lasts at most `call_budget_s` plus one
        request's timeout. A POST is sent once unless `repeatable_post`.
        """
        for attempt in (1, 2):
            headers = self._auth_header() if authenticated else {}
            try:
                with call_budget(self._call_budget_s, repeatable_post, self._retrying):
                    response = self._session.request(
                        method,
                        url,
                        json=json_body,
                        params=params,
                        headers=headers,
                        timeout=self._timeout_s,
                    )
            except requests.RequestException as error:
                raise SciCatError(f"SciCat unreachable: {method} {url}: {error}") from error
            if response.status_code == 401 and authenticated and attempt == 1:
                self._token = None  # expired or revoked: log in again once
                continue
            break
        if response.status_code == 404:
            raise SciCatNotFoundError(
                f"{method} {url}: not found: {response.text[:300]}", status=404
            )
        if response.status_code >= 400:
            raise SciCatError(
                f"{method} {url} answered {response.status_code}: {response.text[:500]}",
                status=response.status_code,
            )
        return response

    def _dataset_url(self, pid: str) -> str:
        return f"{self.base_url}/datasets/{quote_segment(pid)}"

    def get_dataset(self, pid: str) -> Dataset:
        """Returns the dataset; `DatasetNotFoundError` (a user error) if SciCat has none."""
        try:
            response = self.send("GET", self._dataset_url(pid))
        except SciCatNotFoundError as error:
            raise DatasetNotFoundError(f"dataset {pid!r} does not exist in SciCat") from error
        return parse_answer(Dataset, response)

    def update_lifecycle(self, pid: str, update: LifecycleUpdate) -> None:
        """Merges the given lifecycle fields into the dataset's lifecycle."""
        body = update.model_dump(by_alias=True, exclude_none=True, mode="json")
        self.send("PATCH", f"{self._dataset_url(pid)}/datasetlifecycle", json_body=body)

    def get_origdatablocks(self, pid: str) -> list[OrigDatablock]:
        """Returns the dataset's origdatablocks (the files the ingestor registered)."""
        response = self.send("GET", f"{self._dataset_url(pid)}/origdatablocks")
        return parse_list(OrigDatablock, response)

    def get_datablocks(self, pid: str) -> list[Datablock]:
        """Returns the dataset's registered datablocks."""
        response = self.send("GET", f"{self._dataset_url(pid)}/datablocks")
        return parse_list(Datablock, response)

    def create_datablock(self, pid: str, datablock: CreateDatablock) -> Datablock:
        """Registers one datablock and returns it as stored (with its SciCat id).

        A POST whose answer was lost (connection dropped, timeout, 5xx, or a 409 after such a
        loss) may have been applied: before sending it again, the dataset's datablocks are
        read, and the one with this archiveId is returned if SciCat already holds it with the
        same sizes. A datablock is never registered twice.
        """
        body = datablock.model_dump(by_alias=True, exclude_none=True, mode="json")
        url = f"{self._dataset_url(pid)}/datablocks"
        deadline = time.monotonic() + self._call_budget_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse_answer(Datablock, self.send("POST", url, json_body=body))
            except SciCatError as error:
                if not answer_may_be_lost(error):
                    raise
                stored = self._registered(pid, datablock)
                if stored is not None:
                    return stored
                wait = min(self._backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
                if (
                    error.status == 409
                    or attempt > self._retries
                    or (time.monotonic() + wait > deadline)
                ):
                    raise
                self._retrying(RetryNotice(f"POST {url}", str(error), attempt + 1, wait))
                time.sleep(wait)

    def _registered(self, pid: str, datablock: CreateDatablock) -> Datablock | None:
        """The dataset's datablock with this archiveId, if SciCat holds it as sent."""
        for block in self.get_datablocks(pid):
            if block.archive_id != datablock.archive_id:
                continue
            if (block.size, block.packed_size) != (datablock.size, datablock.packed_size):
                raise SciCatError(
                    f"{pid}: SciCat already holds datablock {block.archive_id} with other sizes "
                    f"({block.size}/{block.packed_size}, not "
                    f"{datablock.size}/{datablock.packed_size})"
                )
            return block
        return None

    def delete_datablock(self, pid: str, datablock_id: str) -> None:
        """Deletes one datablock of the dataset; a datablock already gone is not an error."""
        try:
            self.send(
                "DELETE", f"{self._dataset_url(pid)}/datablocks/{quote_segment(datablock_id)}"
            )
        except SciCatNotFoundError:
            return
