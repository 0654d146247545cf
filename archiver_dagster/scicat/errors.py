"""Errors of the SciCat client: what went wrong talking to SciCat, and who has to act."""

from archiver_dagster.errors import ArchiverSystemError, UserError


class SciCatError(ArchiverSystemError):
    """SciCat answered with an error or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SciCatNotFoundError(SciCatError):
    """SciCat has no such dataset, job or datablock (HTTP 404)."""


class DatasetNotFoundError(UserError):
    """The dataset named by a job or a backfill does not exist in SciCat."""
