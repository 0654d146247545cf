"""Retries of SciCat requests: urllib3's `Retry`, bounded per call by a deadline.

Each call of `SciCatClient.send` runs inside `call_budget(seconds)`: no retry starts after the
deadline, no backoff or `Retry-After` wait reaches past it, and a `Retry-After` is never
honoured beyond `RETRY_AFTER_CAP_S`. So a call, retries included, lasts at most its budget plus
one request's timeout, which keeps a sensor tick below Dagster's sensor timeout.

POST is not retried by default: a create whose answer was lost may have been applied, and the
caller decides (the datablock registration first looks whether the datablock exists). Calls
that may be repeated safely (the login) say so with `repeatable_post=True`.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from archiver_dagster.transient import RetryNotice, RetryObserver

RETRY_AFTER_CAP_S = 30.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})

_call = threading.local()


@contextmanager
def call_budget(
    seconds: float, repeatable_post: bool = False, observer: RetryObserver | None = None
) -> Iterator[None]:
    """Within the block, this thread's SciCat requests retry only until `seconds` have passed.

    `observer` hears of every retry before its wait.
    """
    previous = (
        getattr(_call, "deadline", None),
        getattr(_call, "repeatable_post", False),
        getattr(_call, "observer", None),
    )
    _call.deadline = time.monotonic() + seconds
    _call.repeatable_post = repeatable_post
    _call.observer = observer
    try:
        yield
    finally:
        _call.deadline, _call.repeatable_post, _call.observer = previous


def remaining_s() -> float:
    """Seconds left of the current call's budget (infinite outside `call_budget`)."""
    deadline = getattr(_call, "deadline", None)
    return float("inf") if deadline is None else deadline - time.monotonic()


class CallRetry(Retry):
    """`Retry` that stops at the call's deadline and caps `Retry-After`."""

    def _is_method_retryable(self, method: str) -> bool:
        if method.upper() == "POST":
            return bool(getattr(_call, "repeatable_post", False))
        return super()._is_method_retryable(method)

    def get_retry_after(self, response: Any) -> float | None:
        """The server's `Retry-After`, capped at `RETRY_AFTER_CAP_S` and the time left."""
        value = super().get_retry_after(response)
        if value is None:
            return None
        return max(0.0, min(value, RETRY_AFTER_CAP_S, remaining_s()))

    def get_backoff_time(self) -> float:
        """The exponential backoff, never past the call's deadline."""
        return max(0.0, min(super().get_backoff_time(), remaining_s()))

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        """One more attempt, unless the call's budget is spent."""
        if remaining_s() <= 0:
            reason = error or ResponseError("SciCat call budget spent")
            raise MaxRetryError(_pool, url or "", reason)
        following = super().increment(method, url, response, error, _pool, _stacktrace)
        observer: RetryObserver | None = getattr(_call, "observer", None)
        if observer is not None:
            waited = following.get_retry_after(response) if response is not None else None
            observer(
                RetryNotice(
                    request=f"{method} {url}",
                    reason=str(error) if error else f"HTTP {getattr(response, 'status', '?')}",
                    attempt=len(following.history) + 1,
                    wait_s=waited if waited is not None else following.get_backoff_time(),
                )
            )
        return following
