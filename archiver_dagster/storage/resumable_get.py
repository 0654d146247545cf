"""A GET response body that survives a lost connection: it resumes with a ranged GET.

When the connection drops mid-transfer (reset, timeout, a short body), the body asks for the
rest of the object from the next byte (`Range: bytes=N-`) on condition that it is still the same
object (`If-Match` with the ETag of the first answer), after a capped exponential backoff with
jitter, for as long as the transfer's budget lasts (`archiver_dagster.transient`). The reader
sees one uninterrupted stream: the member checksum computed while packing keeps running over the
same bytes, so nothing is packed twice. An object replaced meanwhile fails the read (412): its
bytes would not be the ones registered.
"""

import io
from collections.abc import Callable
from typing import Any

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.transient import LOST_CONNECTION, BudgetSpentError, RetryBudget

Reopen = Callable[[int], Any]  # offset -> a new body reading the object from that byte


class TransferFailedError(ArchiverSystemError):
    """The transfer could not be completed within its budget."""


class ResumableBody(io.RawIOBase):
    """Reads `size` bytes from `body`, resuming through `reopen` after a lost connection.

    Each resume waits as `budget` says, and the budget's observer hears of it.
    """

    def __init__(
        self, body: Any, size: int, reopen: Reopen, budget: RetryBudget, request: str = "GET"
    ) -> None:
        super().__init__()
        self._request = request
        self._body = body
        self._size = size
        self._offset = 0
        self._reopen = reopen
        self._budget = budget
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
        while True:
            try:
                self._budget.wait(self._request, reason)
            except BudgetSpentError as error:
                raise TransferFailedError(
                    f"transfer failed at byte {self._offset} of {self._size} after "
                    f"{self.resumes} resumes: {error}"
                ) from error
            self._close_body()
            try:
                self._body = self._reopen(self._offset)
            except LOST_CONNECTION as error:
                reason = f"{type(error).__name__}: {error}"
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
