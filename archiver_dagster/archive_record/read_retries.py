"""How a failed read-back of a datablock from the LTS is retried or failed (archive, retrieval)."""

import random
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import OpExecutionContext, RetryRequested

from archiver_dagster.errors import ArchiverSystemError, VerificationError, failure_from
from archiver_dagster.packing.verify import ChecksumMismatchError, UnsafeMemberError
from archiver_dagster.storage.durable_copy import LTSError
from archiver_dagster.storage.lts import LTSResource

# The copy is there but differs from what was registered: retrying cannot help.
INTEGRITY_ERRORS = (ChecksumMismatchError, UnsafeMemberError, tarfile.TarError)
# The copy could not be read (yet): the LTS may be recalling it from tape.
READ_ERRORS = (OSError, LTSError)


def retry_delay_s(first_delay_s: float, retry_number: int) -> float:
    """Exponential backoff with +-10 % jitter: 60, 120, 240, ... s for a first delay of 60 s."""
    return first_delay_s * (2**retry_number) * random.uniform(0.9, 1.1)


@contextmanager
def lts_read_failures(context: OpExecutionContext, lts: LTSResource, what: str) -> Iterator[None]:
    """Turns errors of the block into a verification failure (not retried) or a retry.

    Unreadable copies are retried `lts.read_retries` times with exponential backoff from
    `lts.read_retry_delay_s` (the reference's 60/120/240/480/960 s), then fail as system errors.
    """
    try:
        yield
    except INTEGRITY_ERRORS as error:
        raise failure_from(VerificationError(f"{what}: {error}")) from error
    except READ_ERRORS as error:
        if context.retry_number < lts.read_retries:
            delay = retry_delay_s(lts.read_retry_delay_s, context.retry_number)
            context.log.warning(f"{what} not readable ({error}); retry in {delay:.0f} s")
            raise RetryRequested(max_retries=lts.read_retries, seconds_to_wait=delay) from error
        raise failure_from(ArchiverSystemError(f"{what}: {error}")) from error
