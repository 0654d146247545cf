"""`FakeSciCatResource`: the SciCat resource with a fake behind it, for ops and sensors in tests.

Dagster's `project_fully_featured` pattern: one resource, a real and a fake implementation.
Ops and sensors ask for a `SciCatResource` and get this subclass, whose clients reach a
`SciCatFake` in process; nothing is patched.
"""

from dagster import ResourceDependency
from pydantic import Field

from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.transient import RetryObserver
from devstack.scicat_fake.fake import FAKE_ENDPOINT, FakeSciCatClient, SciCatFake


class FakeSciCatResource(SciCatResource):
    """`SciCatResource` whose clients talk to `fake`: same client, same errors, no HTTP."""

    fake: ResourceDependency[SciCatFake]
    endpoint: str = Field(default=FAKE_ENDPOINT, description="Never contacted.")
    username: str = Field(default="archiver", description="An account of the fake.")
    password: str = Field(default="archiver-password", description="Its password.")
    backoff_s: float = Field(
        default=0.0, description="No wait before a repeated datablock registration."
    )

    def _build(
        self, retries: int, call_budget_s: float, on_retry: RetryObserver | None
    ) -> SciCatClient:
        return FakeSciCatClient(
            self.fake,
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
