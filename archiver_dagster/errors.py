"""User versus system errors, as the reference classifies them, and how a failure is reported."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum

from dagster import DagsterEvent, Failure, MetadataValue

ERROR_KIND_KEY = "archiver/error_kind"
ERROR_MESSAGE_KEY = "archiver/error_message"
MAX_RETURN_MESSAGE_CHARS = 2000


class ErrorKind(StrEnum):
    """Who has to act: the dataset's owner (user) or the operators (system)."""

    USER = "user"
    SYSTEM = "system"


class ArchiverError(Exception):
    """Base class of errors the archiver raises on purpose."""

    kind: ErrorKind = ErrorKind.SYSTEM
    # Whether running the step again could succeed without anyone changing anything.
    retriable: bool = True


class UserError(ArchiverError):
    """The dataset cannot be archived as registered: the owner has to fix it."""

    kind = ErrorKind.USER
    retriable = False


class MissingFilesError(UserError):
    """Files listed in SciCat are missing from the landing zone or differ in size."""


class RegisteredChecksumError(UserError):
    """Landing-zone data differs from the checksums (`chk`) registered in the origdatablocks."""


class ArchiverSystemError(ArchiverError):
    """Infrastructure failed (SciCat, S3, LTS, checksums): operators have to act."""


class VerificationError(ArchiverSystemError):
    """The LTS copy does not match what was packed and registered."""

    retriable = False


class LTSFullError(ArchiverSystemError):
    """The LTS did not free enough space in time."""


def bounded_list(items: Sequence[str], limit: int = 5) -> str:
    """The first `limit` items joined by `; `, then how many more: messages stay readable."""
    shown = "; ".join(items[:limit])
    more = len(items) - limit
    return f"{shown}; and {more} more" if more > 0 else shown


class DatablockTooLargeError(ArchiverSystemError):
    """A datablock is larger than the LTS could ever hold above its free-space margin."""

    retriable = False


def failure_from(error: Exception) -> Failure:
    """Wraps `error` as a Dagster `Failure` that records its kind in metadata."""
    kind = error.kind if isinstance(error, ArchiverError) else ErrorKind.SYSTEM
    return Failure(
        description=f"{type(error).__name__}: {error}",
        metadata={
            ERROR_KIND_KEY: MetadataValue.text(kind.value),
            ERROR_MESSAGE_KEY: MetadataValue.text(str(error)),
        },
        # A user error, a checksum mismatch or a misplaced file will not go away by retrying.
        allow_retries=error.retriable if isinstance(error, ArchiverError) else True,
    )


@contextmanager
def classified_failures() -> Iterator[None]:
    """Turns `ArchiverError`s raised inside the block into classified Dagster failures."""
    try:
        yield
    except ArchiverError as error:
        raise failure_from(error) from error


def classify_step_failures(events: Sequence[DagsterEvent]) -> tuple[ErrorKind, list[str]]:
    """Classifies a failed run from its step failure events: user only if every failure is."""
    kinds: list[ErrorKind] = []
    messages: list[str] = []
    for event in events:
        data = event.step_failure_data
        metadata = (
            data.user_failure_data.metadata if data and data.user_failure_data else {}
        ) or {}
        kind_value = metadata.get(ERROR_KIND_KEY)
        kind = ErrorKind(str(kind_value.value)) if kind_value is not None else ErrorKind.SYSTEM
        kinds.append(kind)
        message_value = metadata.get(ERROR_MESSAGE_KEY)
        if message_value is not None:
            messages.append(str(message_value.value))
        elif data and data.error:
            messages.append(data.error.message.strip().splitlines()[-1])
    if kinds and all(kind is ErrorKind.USER for kind in kinds):
        return ErrorKind.USER, messages
    return ErrorKind.SYSTEM, messages


def return_message(kind: ErrorKind, message: str) -> dict[str, str]:
    """The `archiveReturnMessage` / `retrieveReturnMessage` of a failed dataset."""
    return {"errorKind": kind.value, "message": message[:MAX_RETURN_MESSAGE_CHARS]}
