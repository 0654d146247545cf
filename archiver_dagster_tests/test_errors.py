"""Failure classification: which errors a retry could fix."""

import pytest

from archiver_dagster.errors import (
    ArchiverError,
    DatablockTooLargeError,
    LTSFullError,
    MissingFilesError,
    VerificationError,
    failure_from,
)
from archiver_dagster.storage.layout import ArchiveIdOutsideDatasetError


@pytest.mark.parametrize(
    ("error", "kind", "retried"),
    [
        (MissingFilesError("a file is missing"), "user", False),
        (VerificationError("checksum differs"), "system", False),
        (ArchiveIdOutsideDatasetError("archiveId 'x' is outside"), "system", False),
        (DatablockTooLargeError("larger than the LTS can ever hold"), "system", False),
        (LTSFullError("no room yet"), "system", True),
        (ValueError("a crash"), "system", True),
    ],
)
def test_failure_records_the_kind_and_retries_only_what_may_pass(
    error: Exception, kind: str, retried: bool
) -> None:
    failure = failure_from(error)
    assert failure.metadata["archiver/error_kind"].value == kind
    assert failure.metadata["archiver/error_message"].value == str(error)
    assert failure.allow_retries is retried
    assert isinstance(error, ArchiverError) or kind == "system"
