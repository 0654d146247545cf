"""Request log and fault injection of the simulator, both safe to use from many threads."""

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator answered: decoded path without query, parsed body, status."""

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    status: int


def decode_body(body: bytes, content_type: str) -> Any | None:
    """Returns the body parsed as JSON or form data if possible, else as text; None if empty."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class RequestRecorder:
    """Keeps every answered request, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def add(self, request: RecordedRequest) -> None:
        """Appends a request to the log."""
        with self._lock:
            self._requests.append(request)

    def snapshot(self) -> list[RecordedRequest]:
        """Returns a copy of the log."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Empties the log."""
        with self._lock:
            self._requests.clear()


@dataclass
class _Fault:
    remaining: int
    status: int
    path_contains: str


class FaultInjector:
    """Makes the next N requests whose path contains a string answer a given status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(self, count: int, status: int, path_contains: str) -> None:
        """Arms a fault for the next `count` matching requests."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._faults.append(_Fault(count, status, path_contains))

    def take(self, *paths: str) -> int | None:
        """Consumes one matching fault and returns its status; None if no fault matches."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and any(fault.path_contains in p for p in paths):
                    fault.remaining -= 1
                    return fault.status
            self._faults = [f for f in self._faults if f.remaining > 0]
            return None
