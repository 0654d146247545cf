"""A GET response body that survives a lost connection: it resumes with a ranged GET.

When the connection drops mid-transfer (reset, timeout, a short body), the body asks for the
rest of the object from the next byte (`Range: bytes=N-`) on condition that it is still the same
object (`If-Match` with the ETag of the first answer), after a capped exponential backoff with
jitter, for as long as the transfer's budget lasts. The reader sees one uninterrupted stream:
the member checksum computed while packing keeps running over the same bytes, so nothing is
packed twice. An object replaced meanwhile fails the read (412): its bytes would not be the
ones registered.
"""

import io
import random
import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import urllib3.exceptions

from archiver_dagster.errors import ArchiverSystemError

# A read that failed this way may succeed on a new connection.
LOST_CONNECTION = (
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
    ConnectionError,
    TimeoutError,
)
FIRST_WAIT_S = 0.5
MAX_WAIT_S = 30.0

Reopen = Callable[[int], Any]  # offset -> a new body reading the object from that byte
Notice = Callable[[str, int, float], None]  # (reason, attempt, wait) before each resume


def transient_client_error(error: botocore.exceptions.ClientError) -> bool:
    """Whether S3 refused for a moment (429, 5xx) rather than for good (403, 404, 412)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return int(status) == 429 or int(status) >= 500


class TransferFailedError(ArchiverSystemError):
    """The transfer could not be completed within its budget."""


class ResumableBody(io.RawIOBase):
    """Reads `size` bytes from `body`, resuming through `reopen` after a lost connection."""

    def __init__(
        self,
        body: Any,
        size: int,
        reopen: Reopen,
        budget_s: float,
        on_resume: Notice | None = None,
    ) -> None:
        super().__init__()
        self._body = body
        self._size = size
        self._offset = 0
        self._reopen = reopen
        self._budget_s = budget_s
        self._on_resume = on_resume
        self._deadline: float | None = None
        self._attempts = 0
        self.resumes = 0

    def readable(self) -> bool:
        """A body is readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Reads into `buffer`; resumes the transfer as often as its budget allows."""
        while True:
            try:
                count = int(self._body.readinto(buffer))
            except LOST_CONNECTION as error:
                self._resume(f"{type(error).__name__}: {error}")
                continue
            if count == 0 and self._offset < self._size and len(buffer) > 0:
                self._resume(f"the body ended after {self._offset} of {self._size} bytes")
                continue
            self._offset += count
            return count

    def _resume(self, reason: str) -> None:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._budget_s
        while True:
            self._attempts += 1
            wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (self._attempts - 1))
            wait *= 1 + 0.2 * (2 * random.random() - 1)
            if now + wait > self._deadline:
                raise TransferFailedError(
                    f"transfer failed at byte {self._offset} of {self._size} after "
                    f"{self.resumes} resumes and {self._budget_s:.0f} s: {reason}"
                )
            if self._on_resume is not None:
                self._on_resume(reason, self._attempts + 1, wait)
            time.sleep(wait)
            self._close_body()
            try:
                self._body = self._reopen(self._offset)
            except LOST_CONNECTION as error:
                reason = f"{type(error).__name__}: {error}"
                now = time.monotonic()
                continue
            self.resumes += 1
            return

    def _close_body(self) -> None:
        try:
            self._body.close()
        except LOST_CONNECTION:  # the connection is gone already
            return

    def close(self) -> None:
        """Closes the current response."""
        if not self.closed:
            self._close_body()
        super().close()
