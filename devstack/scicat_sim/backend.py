"""`SimBackend`: the simulated SciCat without its HTTP front, shared by the simulator and the fake.

It holds the state, the routes, the fault injection, the request log and the answer rewrites,
and answers one request at a time (`exchange`). `SciCatSimulator` serves it over HTTP;
`devstack.scicat_fake.SciCatFake` hands it the archiver's requests in process. Either way the
same repositories validate the same bodies and render the same answers.
"""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

from pydantic import BaseModel

from devstack.scicat_sim.auth import Authenticator
from devstack.scicat_sim.datasets import DatasetRepository
from devstack.scicat_sim.job_models import CreateJobV3Dto, CreateJobV4Dto, UpdateJobV4Dto
from devstack.scicat_sim.job_views import view_v3
from devstack.scicat_sim.jobs import JobRepository
from devstack.scicat_sim.models import CreateDatasetDto, CreateOrigDatablockDto
from devstack.scicat_sim.recording import (
    AnswerRewriter,
    AnswerTransform,
    Fault,
    FaultInjector,
    RecordedRequest,
    RequestRecorder,
    decode_body,
)
from devstack.scicat_sim.routes import ApiRequest, ApiResponse, SciCatApi
from devstack.scicat_sim.store import JsonStore, Record

M = TypeVar("M", bound=BaseModel)

DEFAULT_USERS: Mapping[str, str] = {"archiver": "archiver-password"}
SEED_USER = "scicat-sim-seed"


def _validate(model: type[M], body: Mapping[str, Any]) -> M:
    """Validates a seeding body exactly as an HTTP body (raises pydantic's ValidationError)."""
    return model.model_validate_json(json.dumps(body))


class SimBackend:
    """A strict SciCat backend double: state, routes, faults and request log, without a server."""

    def __init__(
        self,
        state_file: Path | None = None,
        users: Mapping[str, str] = DEFAULT_USERS,
        token_ttl_s: float = 3600.0,
        jobs_apis: str = "v3v4",
    ) -> None:
        """`jobs_apis` names the jobs APIs served: "v3v4" (both), "v3" or "v4" (one only)."""
        store = JsonStore(state_file)
        self._auth = Authenticator(store, users, token_ttl_s)
        self._datasets = DatasetRepository(store)
        self._jobs = JobRepository(store, self._datasets)
        self.jobs_apis = jobs_apis
        self._api = SciCatApi(self._auth, self._datasets, self._jobs, jobs_apis)
        self._faults = FaultInjector()
        self._log = RequestRecorder()
        self._rewriter = AnswerRewriter()

    def exchange(
        self, request: ApiRequest, fault: Fault | None = None
    ) -> tuple[ApiResponse, Fault | None]:
        """Answers one request (an armed fault first), records it; returns the fault taken.

        A fault replaces the answer; with `after_apply` the request takes effect first. How a
        fault's `stall_s` and `retry_after_s` reach the client is the front's business. A
        `fault` given is taken instead of an armed one (the fake arms faults per operation).
        """
        path = unquote(request.raw_path)
        if fault is None:
            fault = self._faults.take(request.method, (path, request.raw_path), request.body)
        if fault is None or fault.after_apply:
            response = self._api.handle(request)
        if fault is not None:
            response = ApiResponse(
                fault.status, {"statusCode": fault.status, "message": "Injected fault"}
            )
        rewritten = False
        if 200 <= response.status < 300:
            payload, rewritten = self._rewriter.apply(request.method, path, response.payload)
            response = ApiResponse(response.status, payload)
        self._log.add(
            RecordedRequest(
                request.method,
                path,
                request.query,
                decode_body(request.body, request.content_type),
                response.status,
                raw_path=request.raw_path,
                response=response.payload,
                rewritten=rewritten,
            )
        )
        return response, fault

    @property
    def token_ttl_s(self) -> float:
        """Lifetime in seconds of the tokens issued from now on."""
        return self._auth.token_ttl_s

    @token_ttl_s.setter
    def token_ttl_s(self, value: float) -> None:
        self._auth.token_ttl_s = value

    def fail_next(
        self,
        count: int,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        path_contains: str = "",
        method: str | None = None,
        body_contains: str = "",
        after_apply: bool = False,
        retry_after_s: int | None = None,
        stall_s: float = 0.0,
    ) -> None:
        """Makes the next `count` matching requests answer `status`.

        A request matches when its path contains `path_contains`, its method is `method` (any
        if None) and its body contains `body_contains`. With `after_apply` the request takes
        effect and only its answer is lost (as when a proxy times out after the backend
        committed); `retry_after_s` adds a `Retry-After` header; `stall_s` delays the answer (a
        hung backend: a client whose timeout is shorter sees a read timeout).
        """
        fault = Fault(int(status), after_apply, retry_after_s, stall_s)
        self._faults.add(count, fault, path_contains, method, body_contains)

    def fail_for(
        self,
        seconds: float,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        path_contains: str = "",
    ) -> None:
        """Makes every request whose path contains `path_contains` answer `status` for a while.

        An outage window, as when SciCat restarts behind its load balancer.
        """
        self._faults.add_window(seconds, Fault(int(status)), path_contains)

    def clear_faults(self) -> None:
        """Disarms every fault not yet consumed."""
        self._faults.clear()

    @contextmanager
    def answers_rewritten(
        self, method: str, path_contains: str, transform: AnswerTransform
    ) -> Iterator[None]:
        """Within the block, successful answers on matching paths go through `transform`."""
        self._rewriter.add(method, path_contains, transform)
        try:
            yield
        finally:
            self._rewriter.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, oldest first."""
        return self._log.snapshot()

    def clear_requests(self) -> None:
        """Forgets the requests recorded so far."""
        self._log.clear()

    def dataset(self, pid: str) -> Record | None:
        """Returns the stored dataset, or None."""
        return self._datasets.find(pid)

    def datablocks(self, pid: str) -> list[Record]:
        """Returns the dataset's datablocks (empty if the dataset does not exist)."""
        return self._datasets.datablocks(pid, must_exist=False)

    def delete_datablock(self, pid: str, block_id: str) -> None:
        """Deletes a datablock as an operator might, outside the archiver (404 if unknown)."""
        self._datasets.delete_datablock(pid, block_id)

    def origdatablocks(self, pid: str) -> list[Record]:
        """Returns the dataset's origdatablocks (empty if the dataset does not exist)."""
        return self._datasets.origdatablocks(pid, must_exist=False)

    def job(self, job_id: str) -> Record | None:
        """Returns the stored job in its v4 shape, or None."""
        return self._jobs.find(job_id)

    def seed_dataset(self, body: Mapping[str, Any]) -> Record:
        """Creates a dataset from a `POST /datasets` body, validated as over HTTP."""
        return self._datasets.create(_validate(CreateDatasetDto, body), SEED_USER)

    def seed_origdatablock(self, pid: str, body: Mapping[str, Any]) -> Record:
        """Adds an origdatablock from a `POST /datasets/{pid}/origdatablocks` body."""
        dto = _validate(CreateOrigDatablockDto, body)
        return self._datasets.add_origdatablock(pid, dto, SEED_USER)

    def set_job_status(self, job_id: str, status_code: str, message: str) -> Record:
        """Sets a job's status as an operator might, outside the archiver (404 if unknown)."""
        dto = _validate(UpdateJobV4Dto, {"statusCode": status_code, "statusMessage": message})
        return self._jobs.update_v4(job_id, dto, SEED_USER)

    def seed_job(self, body: Mapping[str, Any], api_version: Literal[3, 4] = 4) -> Record:
        """Creates a job from a v3 or v4 `POST` body; returns it in that version's view."""
        if api_version == 3:
            return view_v3(self._jobs.create_v3(_validate(CreateJobV3Dto, body), SEED_USER))
        return self._jobs.create_v4(_validate(CreateJobV4Dto, body), SEED_USER)
