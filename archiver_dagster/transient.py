"""Transient faults, decided once: which SciCat and S3 failures are retried, and how.

Transient: the connection was refused, reset or timed out, or the server answered 429 or a 5xx
(S3's `SlowDown`, `InternalError`, `ServiceUnavailable`; a SciCat behind a restarting load
balancer). Such a failure is retried with capped exponential backoff and jitter until the
operation's budget (`ARCHIVER_TRANSIENT_FAULT_BUDGET_S`) is spent, and only then fails its
dataset as a system error. Everything else (403, 404, 412, a checksum mismatch, a missing file)
is permanent and fails at once: retrying cannot fix it.

This follows the AWS SDKs' "standard" retry mode (the same error classes, exponential backoff
with jitter so that clients failing together do not retry in lockstep) and urllib3's `Retry`
(which the SciCat client uses with the same statuses), with a time budget instead of a count:
an operator thinks in "ride out a one-minute outage", not in attempts.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import botocore.exceptions
import urllib3.exceptions

# HTTP answers that mean "not now" rather than "never", for SciCat and S3 alike.
TRANSIENT_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})
# S3 error codes that mean the same, whatever status a gateway put them in.
TRANSIENT_S3_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "BadGateway",
        "GatewayTimeout",
    }
)
# Failures below HTTP: the next connection may well succeed.
LOST_CONNECTION: tuple[type[BaseException], ...] = (
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionError,  # connect timeouts, refused, closed connections
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
    ConnectionError,
    TimeoutError,
)
FIRST_WAIT_S = 0.5
MAX_WAIT_S = 30.0

T = TypeVar("T")


@dataclass(frozen=True)
class RetryNotice:
    """One retry about to happen: what failed, why, which attempt comes next, after how long."""

    request: str
    reason: str
    attempt: int
    wait_s: float


RetryObserver = Callable[[RetryNotice], None]


class RetryLog(Protocol):
    """Where a run's retries are logged (a Dagster op context's `log`)."""

    def warning(self, msg: str) -> None:
        """Logs one warning."""


def describe_retry(notice: RetryNotice) -> str:
    """The log line of a retry: what, why, attempt, next wait."""
    return (
        f"{notice.request} failed ({notice.reason}); attempt {notice.attempt} "
        f"in {notice.wait_s:.1f} s"
    )


def backoff_s(retry: int, first_s: float = FIRST_WAIT_S, cap_s: float = MAX_WAIT_S) -> float:
    """The wait before retry number `retry` (1, 2, ...): doubling from `first_s`, capped.

    "Equal jitter": the wait is drawn between half and all of the nominal value, so retries of
    many clients spread out while each still waits long enough to let the fault pass.
    """
    nominal = min(cap_s, first_s * 2 ** max(retry - 1, 0))
    return nominal * random.uniform(0.5, 1.0)


def retries_within(
    budget_s: float, first_s: float = FIRST_WAIT_S, cap_s: float = MAX_WAIT_S
) -> int:
    """How many retries fit in `budget_s` of waiting at the nominal backoff (at least one)."""
    waited, retries = 0.0, 0
    while waited < budget_s:
        retries += 1
        waited += min(cap_s, first_s * 2 ** (retries - 1))
    return max(retries, 1)


def http_status_of(error: BaseException) -> int | None:
    """The HTTP status an S3 `ClientError` carries, if any."""
    if isinstance(error, botocore.exceptions.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    return None


class ReportedTransientError(Exception):
    """A failure the caller recognised as transient itself (e.g. keys a delete skipped)."""


def is_transient_s3_error(error: BaseException) -> bool:
    """Whether S3 failed for a moment (lost connection, 429, 5xx) rather than for good."""
    if isinstance(error, ReportedTransientError):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = http_status_of(error)
        return code in TRANSIENT_S3_CODES or status in TRANSIENT_HTTP_STATUSES
    return isinstance(error, LOST_CONNECTION)


class BudgetSpentError(Exception):
    """A transient fault outlasted its operation's retry budget."""


class RetryBudget:
    """The retries of one operation: backoff and jitter, until `budget_s` after the first fault."""

    def __init__(self, budget_s: float, observer: RetryObserver | None = None) -> None:
        self._budget_s = budget_s
        self._observer = observer
        self._deadline: float | None = None
        self.retries = 0

    def wait(self, request: str, reason: str) -> None:
        """Sleeps before the next attempt; raises `BudgetSpentError` if the budget is spent."""
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._budget_s
        wait = backoff_s(self.retries + 1)
        if now + wait > self._deadline:
            raise BudgetSpentError(
                f"{request}: {reason}; still failing after {self.retries} retries "
                f"within the {self._budget_s:.0f} s budget"
            )
        self.retries += 1
        if self._observer is not None:
            self._observer(RetryNotice(request, reason, self.retries + 1, wait))
        time.sleep(wait)


class TransientFaults:
    """How one step rides out transient faults: a budget per operation, a log, a count.

    `count` is the number of retries the step needed, recorded in its Dagster metadata.
    """

    def __init__(self, budget_s: float, observer: RetryObserver | None = None) -> None:
        self.budget_s = budget_s
        self._observer = observer
        self.count = 0

    def _heard(self, notice: RetryNotice) -> None:
        self.count += 1
        if self._observer is not None:
            self._observer(notice)

    def budget(self) -> RetryBudget:
        """A fresh budget for one operation; its retries count towards this step's."""
        return RetryBudget(self.budget_s, self._heard)

    def call(
        self,
        request: str,
        call: Callable[[], T],
        is_transient: Callable[[BaseException], bool] = is_transient_s3_error,
    ) -> T:
        """`call()`, retried while it fails transiently and the budget lasts.

        A permanent failure, or the last transient one, is raised as it is, so the caller's
        own error handling (and message) applies.
        """
        budget = self.budget()
        while True:
            try:
                return call()
            except Exception as error:
                if not is_transient(error):
                    raise
                try:
                    budget.wait(request, f"{type(error).__name__}: {error}")
                except BudgetSpentError:
                    raise error from None


def logged_faults(budget_s: float, log: RetryLog) -> TransientFaults:
    """Transient faults of a step, each retry logged as a warning on `log` (a run's log)."""
    return TransientFaults(budget_s, lambda notice: log.warning(describe_retry(notice)))


def call_or_retry(faults: TransientFaults | None, request: str, call: Callable[[], T]) -> T:
    """`call()` retried within `faults`' budget, or once (botocore's own retries) if None."""
    return call() if faults is None else faults.call(request, call)
