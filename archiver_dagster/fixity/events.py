"""Preservation events, PREMIS-style: what happened to a dataset, when, how checked, by which run.

Event types follow the Library of Congress PREMIS event-type vocabulary
(id.loc.gov/vocabulary/preservation/eventType).
"""

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class EventType(StrEnum):
    """The PREMIS event types the archiver records."""

    MESSAGE_DIGEST_CALCULATION = "message digest calculation"  # tars packed and hashed
    REPLICATION = "replication"  # copies written to the LTS
    FIXITY_CHECK = "fixity check"  # copies read back from the media and compared
    INGESTION = "ingestion"  # the dataset archived (or failing to be)
    VALIDATION = "validation"  # SciCat, LTS and lifecycle compared
    DISSEMINATION = "dissemination"  # retrieval to the retrieval bucket
    DELETION = "deletion"  # landing zone released, or a failed run's copies removed


class Outcome(StrEnum):
    """PREMIS event outcome."""

    SUCCESS = "success"
    FAILURE = "failure"


class PreservationEvent(BaseModel):
    """One event of a dataset's audit trail."""

    time: datetime
    event_type: EventType
    outcome: Outcome
    run_id: str | None = Field(default=None, description="The Dagster run; None for sensors.")
    agent: str = Field(description="The asset, check or sensor that acted.")
    algorithm: str | None = None
    checksums: dict[str, str] = Field(default_factory=dict, description="By archiveId.")
    detail: str = ""

    def line(self) -> str:
        """The event on one line (checksums not included), for `archiver-dagster history`."""
        when = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        algorithm = f" [{self.algorithm}]" if self.algorithm else ""
        run = f" run {self.run_id}" if self.run_id else ""
        return (
            f"{when}  {self.event_type.value}: {self.outcome.value}{algorithm}  "
            f"{self.agent}{run}  {self.detail}".rstrip()
        )
