"""Which failed runs to clean up on this tick, and when to try again (no Dagster calls here).

Cleanup is a reconciliation: every failed or canceled dataset run without the cleaned-up mark
is cleaned up, idempotently, until it succeeds. A cleanup that fails (SciCat down, say) is
tried again after a capped exponential backoff with jitter (`backoff.py`); each tick does
bounded work.
"""

from archiver_dagster.automation.backoff import RetryState
from archiver_dagster.automation.cursors import JsonCursor

DEFER_S = 10.0  # a dataset busy with another run is looked at again this much later


class CleanupCursor(JsonCursor):
    """Run updates seen up to `updated_after`; runs whose cleanup is still to do."""

    updated_after: float = 0.0
    pending: dict[str, RetryState] = {}


def due(cursor: CleanupCursor, now: float, limit: int) -> list[str]:
    """The runs to clean up now: due ones, the longest-waiting first, at most `limit`."""
    ready = [(entry.retry_at, run_id) for run_id, entry in cursor.pending.items()]
    return [run_id for retry_at, run_id in sorted(ready) if retry_at <= now][:limit]


def deferred(entry: RetryState, now: float) -> RetryState:
    """The entry put off without counting an attempt (the dataset has a newer run going)."""
    return entry.model_copy(update={"retry_at": now + DEFER_S})
