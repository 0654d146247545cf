"""The client operations the fake tells apart, its record of calls, and faults armed per operation.

An operation is named after the `SciCatClient` method (or `scicat/job_api.py` function) that sends
the request, so a test says `disable={"update_lifecycle": ...}` rather than spelling a route.
"""

import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from devstack.scicat_sim.recording import Fault

_SEG = "[^/]+"
_DS = f"/datasets/{_SEG}"

# (method, path below `/api/vN`, operation); the first match names the request.
_OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("POST", "/auth/login", "login"),
    ("GET", _DS, "get_dataset"),
    ("PATCH", _DS + "/datasetlifecycle", "update_lifecycle"),
    ("GET", _DS + "/origdatablocks", "get_origdatablocks"),
    ("GET", _DS + "/datablocks", "get_datablocks"),
    ("POST", _DS + "/datablocks", "create_datablock"),
    ("DELETE", _DS + f"/datablocks/{_SEG}", "delete_datablock"),
    ("GET", "/jobs/fullquery", "list_jobs"),
    ("GET", "/jobs", "list_jobs"),
    ("GET", f"/jobs/{_SEG}", "get_job"),
    ("PATCH", f"/jobs/{_SEG}", "update_job"),
)
_PATTERNS = tuple(
    (method, re.compile(rf"^/api/v\d+{path}/?$", re.IGNORECASE), name)
    for method, path, name in _OPERATIONS
)
OPERATIONS = frozenset(name for _, _, name in _OPERATIONS)


def operation_of(method: str, raw_path: str) -> str:
    """The client operation a request serves; `METHOD path` for any other request."""
    for route_method, pattern, name in _PATTERNS:
        if route_method == method and pattern.match(raw_path):
            return name
    return f"{method} {raw_path}"


def check_operation(name: str) -> str:
    """`name` if the fake knows the operation; `ValueError` listing the known ones otherwise."""
    if name not in OPERATIONS:
        raise ValueError(f"unknown SciCat operation {name!r}; known: {sorted(OPERATIONS)}")
    return name


@dataclass(frozen=True)
class Call:
    """One request a client sent to the fake, or was refused before sending (`disable`)."""

    operation: str
    method: str
    path: str  # percent-decoded, as the simulator's request log keeps it
    body: Any | None
    status: int | None  # None: the operation is disabled and raised before any answer
    error: BaseException | None = None  # what a disabled operation raised


@dataclass
class _Armed:
    operation: str
    remaining: int
    fault: Fault
    path_contains: str


class OperationFaults:
    """Faults armed for the next N requests of one operation (optionally on one path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []

    def add(
        self,
        operation: str,
        count: int,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        after_apply: bool = False,
        path_contains: str = "",
    ) -> None:
        """Arms `status` for the next `count` requests of `operation` whose path matches."""
        if count < 0:
            raise ValueError("count must not be negative")
        fault = Fault(int(status), after_apply)
        with self._lock:
            self._armed.append(_Armed(check_operation(operation), count, fault, path_contains))

    def take(self, operation: str, path: str) -> Fault | None:
        """Consumes one fault armed for this request; None if there is none."""
        with self._lock:
            for armed in self._armed:
                if (
                    armed.remaining > 0
                    and armed.operation == operation
                    and armed.path_contains in path
                ):
                    armed.remaining -= 1
                    return armed.fault
            return None

    def clear(self) -> None:
        """Disarms every fault."""
        with self._lock:
            self._armed.clear()
