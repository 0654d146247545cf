"""Request log and fault injection of the simulator, both safe to use from many threads."""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    """One exchange the simulator answered: decoded path, parsed body, status and answer.

    `raw_path` keeps the percent-encoding (a PID's `%2F`), so routes can be told apart.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    status: int
    raw_path: str = ""
    response: Any | None = None
    rewritten: bool = False


ExchangeObserver = Callable[[RecordedRequest], None]
_observers: list[ExchangeObserver] = []
_observers_lock = threading.Lock()


def observe_exchanges(observer: ExchangeObserver) -> Callable[[], None]:
    """Calls `observer` with every exchange any simulator of this process answers.

    Returns the function that stops it. The test suite checks every request and answer
    against the official SDK's models this way.
    """
    with _observers_lock:
        _observers.append(observer)

    def stop() -> None:
        with _observers_lock:
            _observers.remove(observer)

    return stop


def _notify(request: RecordedRequest) -> None:
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        try:
            observer(request)
        except Exception:  # an observer's bug must not take the simulator down
            logger.exception("exchange observer failed on %s %s", request.method, request.path)


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
        _notify(request)

    def snapshot(self) -> list[RecordedRequest]:
        """Returns a copy of the log."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Empties the log."""
        with self._lock:
            self._requests.clear()


@dataclass(frozen=True)
class Fault:
    """An injected answer: its status, and how it is given."""

    status: int
    after_apply: bool = False  # the request takes effect, only its answer is replaced
    retry_after_s: int | None = None  # sent as a Retry-After header
    stall_s: float = 0.0  # the answer comes this late (a client with a shorter timeout gives up)


@dataclass
class _Fault:
    remaining: int
    fault: Fault
    path_contains: str
    method: str | None = None
    body_contains: str = ""
    until: float | None = None  # a window (monotonic time) instead of a count

    def matches(self, method: str, paths: tuple[str, ...], body: bytes) -> bool:
        active = self.remaining > 0 if self.until is None else time.monotonic() < self.until
        return (
            active
            and (self.method is None or self.method == method)
            and any(self.path_contains in p for p in paths)
            and self.body_contains.encode() in body
        )


class FaultInjector:
    """Makes the next N matching requests (path, method, body text) answer a given status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(
        self,
        count: int,
        fault: Fault,
        path_contains: str,
        method: str | None = None,
        body_contains: str = "",
    ) -> None:
        """Arms a fault for the next `count` matching requests."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._faults.append(_Fault(count, fault, path_contains, method, body_contains))

    def add_window(self, seconds: float, fault: Fault, path_contains: str) -> None:
        """Arms a fault for every matching request during the next `seconds`."""
        with self._lock:
            until = time.monotonic() + seconds
            self._faults.append(_Fault(0, fault, path_contains, until=until))

    def clear(self) -> None:
        """Disarms every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, paths: tuple[str, ...], body: bytes = b"") -> Fault | None:
        """Consumes one matching fault and returns it; None if no fault matches."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, paths, body):
                    fault.remaining -= 1
                    return fault.fault
            now = time.monotonic()
            self._faults = [
                f
                for f in self._faults
                if f.remaining > 0 or (f.until is not None and now < f.until)
            ]
            return None


AnswerTransform = Callable[[Any], Any]


@dataclass(frozen=True)
class _Rewrite:
    method: str
    path_contains: str
    transform: AnswerTransform


class AnswerRewriter:
    """Changes successful answers on matching routes, to play a backend that answers otherwise.

    Tests use it to show how the client and the preflight meet answers that differ from the
    OpenAPI (a field renamed, missing or of another type); such exchanges are marked rewritten.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rewrites: list[_Rewrite] = []

    def add(self, method: str, path_contains: str, transform: AnswerTransform) -> None:
        """Rewrites every later 2xx answer to `method` on a path containing `path_contains`."""
        with self._lock:
            self._rewrites.append(_Rewrite(method.upper(), path_contains, transform))

    def clear(self) -> None:
        """Stops every rewrite."""
        with self._lock:
            self._rewrites.clear()

    def apply(self, method: str, path: str, payload: Any) -> tuple[Any, bool]:
        """The payload after the matching rewrites, and whether any applied."""
        with self._lock:
            rewrites = [r for r in self._rewrites if r.method == method and r.path_contains in path]
        for rewrite in rewrites:
            payload = rewrite.transform(payload)
        return payload, bool(rewrites)
