"""The SciCat resource: connection settings, and clients for a step or a sensor tick.

A client lives for one `with` block, `run_session` in a step or `tick_session` in a sensor
tick, which closes it however the block ends (decision 54 in docs/architecture.md).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.transient import RetryLog, RetryNotice, RetryObserver, describe_retry

# Within a run the budget, not a count, ends retrying.
RUN_RETRIES = 10_000


class SciCatResource(ConfigurableResource):
    """SciCat connection (`SCICAT_*` variables); its clients log in on their first request."""

    endpoint: str = Field(description="SciCat base URL (SCICAT_ENDPOINT).")
    api_prefix: str = Field(default="/api/v3", description="Datasets API (SCICAT_API_PREFIX).")
    jobs_api_prefix: str = Field(
        default="/api/v3", description="Jobs API, /api/v3 or /api/v4 (SCICAT_JOBS_API_PREFIX)."
    )
    username: str = Field(description="Functional account (SCICAT_USER).")
    password: str = Field(description="Its password (SCICAT_PASSWORD).")
    timeout_s: int = Field(default=30, description="Per-request timeout (SCICAT_TIMEOUT_S).")
    retries: int = Field(default=5, description="Retries of failed requests, exponential backoff.")
    backoff_s: float = Field(default=0.5, description="First retry delay in seconds.")
    call_budget_s: int = Field(
        default=25,
        description="Longest time one call spends retrying; with `timeout_s` it stays below "
        "Dagster's 60 s sensor timeout (SCICAT_CALL_BUDGET_S).",
    )

    job_submitted_status: str = Field(
        default="jobSubmitted",
        description="Status of jobs waiting for the archiver (ARCHIVER_JOB_SUBMITTED_STATUS).",
    )
    jobs_page_size: int = Field(default=100, description="Jobs fetched per listing request.")

    transient_fault_budget_s: int = Field(
        default=600,
        description="How long a run's SciCat call keeps retrying transient faults (connection "
        "errors, timeouts, 429, 5xx) before its dataset fails (ARCHIVER_TRANSIENT_FAULT_BUDGET_S).",
    )

    @contextmanager
    def run_session(self, log: RetryLog) -> Iterator[SciCatClient]:
        """A step's client: transient faults are retried up to the run budget; closed on exit.

        Each retry is logged as a warning (what, why, attempt, next wait); the client counts
        them in `transient_faults`, which stays readable after the block for the step's
        metadata.
        """

        def report(notice: RetryNotice) -> None:
            log.warning(f"SciCat: {describe_retry(notice)}")

        with self._build(RUN_RETRIES, self.transient_fault_budget_s, report) as client:
            yield client

    @contextmanager
    def tick_session(self) -> Iterator[SciCatClient]:
        """A sensor tick's client, bounded to stay below the sensor timeout; closed on exit."""
        with self._build(self.retries, self.call_budget_s, None) as client:
            yield client

    def _build(
        self, retries: int, call_budget_s: float, on_retry: RetryObserver | None
    ) -> SciCatClient:
        return self._new_client(
            endpoint=self.endpoint,
            api_prefix=self.api_prefix,
            jobs_api_prefix=self.jobs_api_prefix,
            username=self.username,
            password=self.password,
            timeout_s=self.timeout_s,
            retries=retries,
            backoff_s=self.backoff_s,
            call_budget_s=call_budget_s,
            on_retry=on_retry,
        )

    def _new_client(self, **settings: Any) -> SciCatClient:
        """The client for these settings; a fake resource answers with its own client."""
        return SciCatClient(**settings)
