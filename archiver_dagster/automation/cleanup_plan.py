"""Which failed runs to clean up on this tick, and when to try again (no Dagster calls here).

Cleanup is a reconciliation: every failed or canceled dataset run without the cleaned-up mark
is cleaned up, idempotently, until it succeeds. A cleanup that fails (SciCat down, say) is
tried again after a capped exponential backoff with jitter; each tick does bounded work.
"""

import random

from pydantic import BaseModel

from archiver_dagster.automation.cursors import JsonCursor

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0
JITTER = 0.2  # +/- 20 %: cleanups that failed together do not retry in lockstep
DEFER_S = 10.0  # a dataset busy with a newer run is looked at again this much later
MAX_ERROR_CHARS = 500


class PendingCleanup(BaseModel):
    """A failed run waiting for its cleanup: attempts so far, when to try next, last error."""

    attempts: int = 0
    retry_at: float = 0.0
    last_error: str = ""


class CleanupCursor(JsonCursor):
    """Run updates seen up to `updated_after`; runs whose cleanup is still to do."""

    updated_after: float = 0.0
    pending: dict[str, PendingCleanup] = {}


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts + 1`: 30 s doubling per attempt, capped at an hour."""
    base = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(attempts - 1, 0))
    return base * (1 + JITTER * (2 * (rng or random).random() - 1))


def due(cursor: CleanupCursor, now: float, limit: int) -> list[str]:
    """The runs to clean up now: due ones, the longest-waiting first, at most `limit`."""
    ready = [(entry.retry_at, run_id) for run_id, entry in cursor.pending.items()]
    return [run_id for retry_at, run_id in sorted(ready) if retry_at <= now][:limit]


def after_failure(entry: PendingCleanup, now: float, error: str) -> PendingCleanup:
    """The entry after a failed attempt: one more attempt counted, the next one backed off."""
    attempts = entry.attempts + 1
    return PendingCleanup(
        attempts=attempts,
        retry_at=now + retry_delay(attempts),
        last_error=error[:MAX_ERROR_CHARS],
    )


def deferred(entry: PendingCleanup, now: float) -> PendingCleanup:
    """The entry put off without counting an attempt (the dataset has a newer run going)."""
    return entry.model_copy(update={"retry_at": now + DEFER_S})
