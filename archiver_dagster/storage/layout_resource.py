"""The storage prefix, configured once, and the dataset layouts built from it.

The landing zone, the LTS and the packing resource each take this resource as a nested
resource (as `LandingZoneResource` takes `dagster_aws`'s `S3Resource`); `definitions.py` builds
one and hands it to all three, so the prefix has one configuration, one default and one
builder of the PID → keys/paths mapping (`DatasetLayout`).
"""

from dagster import ConfigurableResource
from pydantic import Field

from archiver_dagster.settings import documented_default
from archiver_dagster.storage.layout import DatasetLayout


class DatasetLayoutResource(ConfigurableResource):
    """Where each dataset lives: in the landing zone, on the LTS and on scratch."""

    storage_prefix: str = Field(
        default=documented_default("ARCHIVER_STORAGE_PREFIX"),
        description="Key and path prefix of every dataset in the landing zone, on the LTS and "
        "on scratch (ARCHIVER_STORAGE_PREFIX).",
    )

    def of(self, pid: str) -> DatasetLayout:
        """The dataset's keys and paths under the prefix (validates the PID)."""
        return DatasetLayout(self.storage_prefix, pid)
