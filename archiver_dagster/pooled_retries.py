"""Transient faults in an op that holds a pool slot: Dagster retries the op; it does not sleep.

An op that slept through an S3 outage inside `lts_read` would keep one of the few LTS readers
idle for minutes. Instead the op fails with `RetryRequested`: a step up for retry gives its pool
slot back (Dagster's `ActiveExecution` frees the step's concurrency claim on
`STEP_UP_FOR_RETRY`) and claims one again when it restarts after the backoff. The number of
retries follows from `ARCHIVER_TRANSIENT_FAULT_BUDGET_S` and the same backoff as everywhere else
(`archiver_dagster.transient`); after the last one the dataset fails as a system error.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import OpExecutionContext, RetryRequested

from archiver_dagster.errors import ArchiverSystemError, failure_from
from archiver_dagster.transient import (
    RetryNotice,
    backoff_s,
    describe_retry,
    is_transient_s3_error,
    retries_within,
)


def transient_cause(error: BaseException) -> BaseException | None:
    """The transient S3 fault behind `error` (itself, or what it was raised from), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if is_transient_s3_error(current):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def will_retry(context: OpExecutionContext, budget_s: float, error: BaseException) -> bool:
    """Whether `retried_without_slot` retries the op after `error`: transient, within budget."""
    return transient_cause(error) is not None and context.retry_number < retries_within(budget_s)


@contextmanager
def retried_without_slot(context: OpExecutionContext, budget_s: float, what: str) -> Iterator[None]:
    """A transient S3 fault in the block retries the op later, its pool slot released meanwhile."""
    try:
        yield
    except Exception as error:
        cause = transient_cause(error)
        if cause is None:
            raise
        limit = retries_within(budget_s)
        reason = f"{type(cause).__name__}: {cause}"
        if context.retry_number >= limit:
            raise failure_from(
                ArchiverSystemError(
                    f"{what}: {reason}; still failing after {limit} retries within the "
                    f"{budget_s:.0f} s budget"
                )
            ) from error
        wait = backoff_s(context.retry_number + 1)
        notice = RetryNotice(what, reason, context.retry_number + 2, wait)
        context.log.warning(f"{describe_retry(notice)}; its pool slot is free meanwhile")
        raise RetryRequested(max_retries=limit, seconds_to_wait=wait) from error
