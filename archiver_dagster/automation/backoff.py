"""Retrying a sensor's per-item work later: capped exponential backoff with jitter.

A cleanup or a SciCat job update that fails keeps its place and is tried again after 30 s
(`ARCHIVER_RETRY_FIRST_S`), doubling per attempt up to an hour, +/- 20 % so that items that
failed together do not retry in lockstep. Nothing is ever given up.
"""

import random

from pydantic import BaseModel

from archiver_dagster.settings import definition_time_setting

MAX_RETRY_S = 3600.0
JITTER = 0.2
MAX_ERROR_CHARS = 500


class RetryState(BaseModel):
    """Attempts so far, when to try next (epoch seconds), and the last error."""

    attempts: int = 0
    retry_at: float = 0.0
    last_error: str = ""

    def due(self, now: float) -> bool:
        """Whether the next attempt may run at `now`."""
        return self.retry_at <= now


def first_retry_s() -> float:
    """The first delay, `ARCHIVER_RETRY_FIRST_S` (30 s unless set), read where the sensor runs."""
    return float(definition_time_setting("ARCHIVER_RETRY_FIRST_S"))


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts + 1`: 30 s doubling per attempt, capped at an hour."""
    base = min(MAX_RETRY_S, first_retry_s() * 2 ** max(attempts - 1, 0))
    return base * (1 + JITTER * (2 * (rng or random).random() - 1))


def after_failure(state: RetryState, now: float, error: str) -> RetryState:
    """The state after a failed attempt: one more attempt counted, the next one backed off."""
    attempts = state.attempts + 1
    return RetryState(
        attempts=attempts, retry_at=now + retry_delay(attempts), last_error=error[:MAX_ERROR_CHARS]
    )
