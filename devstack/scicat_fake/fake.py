"""`SciCatFake`: the simulated SciCat in memory, reached by the archiver's own client in process."""

import threading
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from requests.adapters import HTTPAdapter

from archiver_dagster.scicat.client import SciCatClient
from devstack.scicat_fake.operations import Call, OperationFaults, check_operation, operation_of
from devstack.scicat_fake.transport import InProcessAdapter
from devstack.scicat_sim.backend import DEFAULT_USERS, SimBackend
from devstack.scicat_sim.recording import Fault, decode_body
from devstack.scicat_sim.routes import ApiRequest, ApiResponse

# Never resolved nor contacted: the fake's transport answers every URL in process.
FAKE_ENDPOINT = "http://scicat.fake"


class SciCatFake(SimBackend):
    """An in-memory SciCat for unit tests of ops and sensors, with faults per client operation.

    It is the simulator's backend (`SimBackend`: the same store, request validation, answers,
    request log and path faults as `SciCatSimulator`) without the HTTP server; its clients are
    the archiver's `SciCatClient` on an in-process transport. On top of the simulator's faults:

    - `disable`: operation name (`update_lifecycle`, `update_job`, ... as in `operations.py`)
      to the exception every call of it raises before any request is answered: what a caller
      sees once the client's retries are spent (a `SciCatError`), or a
      `requests.ConnectionError`, which the client reports as SciCat unreachable.
    - `fail_calls`: the next N requests of an operation answer a status; a transient one is
      retried by the client's own policy, at once.
    - `calls`: every request the clients sent, named by operation.
    """

    def __init__(
        self,
        disable: Mapping[str, BaseException] | None = None,
        users: Mapping[str, str] = DEFAULT_USERS,
        token_ttl_s: float = 3600.0,
        jobs_apis: str = "v3v4",
    ) -> None:
        super().__init__(None, users, token_ttl_s, jobs_apis)
        self.disable: dict[str, BaseException] = {
            check_operation(name): error for name, error in (disable or {}).items()
        }
        self._operation_faults = OperationFaults()
        self._calls: list[Call] = []
        self._calls_lock = threading.Lock()

    def fail_calls(
        self,
        operation: str,
        count: int = 1,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        after_apply: bool = False,
        path_contains: str = "",
    ) -> None:
        """Makes the next `count` requests of `operation` (on a matching path) answer `status`.

        With `after_apply` the request takes effect and only its answer is lost.
        """
        self._operation_faults.add(operation, count, status, after_apply, path_contains)

    def clear_faults(self) -> None:
        """Disarms every fault not yet consumed (path and operation faults; not `disable`)."""
        super().clear_faults()
        self._operation_faults.clear()

    @property
    def calls(self) -> list[Call]:
        """Every call so far, oldest first."""
        with self._calls_lock:
            return list(self._calls)

    def calls_of(self, operation: str) -> list[Call]:
        """The calls of one operation, oldest first."""
        check_operation(operation)
        return [call for call in self.calls if call.operation == operation]

    def clear_requests(self) -> None:
        """Forgets the requests and calls recorded so far."""
        super().clear_requests()
        with self._calls_lock:
            self._calls.clear()

    def _record(self, call: Call) -> None:
        with self._calls_lock:
            self._calls.append(call)

    def answer(self, request: ApiRequest) -> tuple[ApiResponse, Fault | None]:
        """Answers one request of a client (the transport's `exchange`), or raises if disabled."""
        operation = operation_of(request.method, request.raw_path)
        path = unquote(request.raw_path)
        body: Any = decode_body(request.body, request.content_type)
        error = self.disable.get(operation)
        if error is not None:
            self._record(Call(operation, request.method, path, body, None, error))
            raise error
        fault = self._operation_faults.take(operation, path)
        response, taken = self.exchange(request, fault)
        self._record(Call(operation, request.method, path, body, int(response.status)))
        return response, taken

    def client(self, **settings: Any) -> "FakeSciCatClient":
        """A client of this fake (the default account, v3 jobs API unless told otherwise)."""
        return FakeSciCatClient(self, **settings)


class FakeSciCatClient(SciCatClient):
    """The archiver's `SciCatClient`, its requests answered by a `SciCatFake` in process."""

    def __init__(
        self,
        fake: SciCatFake,
        endpoint: str = FAKE_ENDPOINT,
        api_prefix: str = "/api/v3",
        jobs_api_prefix: str = "/api/v3",
        username: str = "archiver",
        password: str = "archiver-password",
        **settings: Any,
    ) -> None:
        super().__init__(endpoint, api_prefix, jobs_api_prefix, username, password, **settings)
        built = self._session.get_adapter(self.base_url)
        if not isinstance(built, HTTPAdapter):
            raise TypeError(f"unexpected transport {built!r} of the SciCat client")
        adapter = InProcessAdapter(fake.answer, built.max_retries)  # the client's own Retry
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
