"""A pack waits for a scratch slot by retrying, never by sleeping (decision 71)."""

import logging
from pathlib import Path

from dagster import DagsterLogManager, RetryRequested

from archiver_dagster.storage.scratch_slots import claim_scratch_slot

# A pack waits for a scratch slot as long as the copies of the tars before it take (an LTS
# free-space wait included); the run's own time limit (ARCHIVER_MAX_RUN_SECONDS) bounds it.
SCRATCH_WAIT_RETRIES = 100_000
SCRATCH_WAIT_MAX_S = 30.0


def wait_for_scratch_slot(
    dest: Path, limit: int, retry_number: int, log: DagsterLogManager | logging.Logger
) -> None:
    """Claims one of `limit` scratch slots for `dest`, or retries the op once one is free.

    `retry_number` is the op's (its context's). The op retries rather than sleeps: waiting, it
    holds no executor slot (the in-process executor meanwhile runs the copies that free scratch;
    a sleeping op would block them).
    """
    if claim_scratch_slot(dest.parent, dest.name, limit):
        return
    wait = min(SCRATCH_WAIT_MAX_S, 0.25 * 2 ** min(retry_number, 7))
    log.info(
        f"{limit} tar(s) of the dataset on scratch (ARCHIVER_SCRATCH_DATABLOCKS): {dest.name} "
        f"is packed once an LTS copy frees one; next look in {wait:.2f} s"
    )
    raise RetryRequested(max_retries=SCRATCH_WAIT_RETRIES, seconds_to_wait=wait)
