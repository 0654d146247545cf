"""`FakeSciCatResource`: the SciCat resource with a fake behind it, for ops and sensors in tests.

Dagster's `project_fully_featured` pattern: one resource, a real and a fake implementation.
Ops and sensors ask for a `SciCatResource` and get this subclass, whose clients reach a
`SciCatFake` in process; nothing is patched.
"""

from typing import Any

from dagster import ResourceDependency
from pydantic import Field

from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.resource import SciCatResource
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

    def _new_client(self, **settings: Any) -> SciCatClient:
        """A client of the fake, with the settings a real one would get."""
        return FakeSciCatClient(self.fake, **settings)
