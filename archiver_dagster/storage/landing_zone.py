"""The S3 landing zone: list a dataset's objects, stream them in order, delete them."""

import io
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import BaseModel, Field

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.resumable_get import ResumableBody
from archiver_dagster.storage.s3_clients import shared_client
from archiver_dagster.transient import (
    TRANSIENT_S3_CODES,
    ReportedTransientError,
    TransientFaults,
    call_or_retry,
    is_transient_s3_error,
)

# Objects up to this size are fetched whole by worker threads, ahead of the tar writer; larger
# ones are streamed. Bounds the memory of the read-ahead to concurrency x this size.
PREFETCH_MAX_BYTES = 8 * 1024 * 1024
# A large object's GET is opened when the object before it has this much left to read.
OPEN_AHEAD_BYTES = 64 * 1024 * 1024
# S3 accepts at most this many keys per DeleteObjects request.
DELETE_BATCH_MAX = 1000


class LandingZoneError(ArchiverSystemError):
    """The landing zone could not be listed, read or cleaned."""


class LandingZoneObject(BaseModel, frozen=True):
    """The landing-zone object a stream reads, as its GET answered: ETag and size.

    The ETag is kept exactly as S3 sends it (with its quotes; `"<md5>-<parts>"` for multipart
    uploads), so it can be compared with a later HEAD or used in a conditional request; `None`
    if the server sent none.
    """

    etag: str | None = Field(description="The object's ETag, as the GET answered.")
    size: int = Field(ge=0, description="The object's size (ContentLength of the GET).")


RawObject = tuple[BinaryIO, LandingZoneObject]


class PartialDeleteError(ReportedTransientError):
    """S3 deleted some keys of a batch and failed others for a transient reason."""

    def __init__(self, failed: list[Any]) -> None:
        super().__init__(f"{len(failed)} keys not deleted: {failed[:5]}")
        self.failed = failed


class LandingZoneResource(ConfigurableResource):
    """The landing-zone bucket (`S3_LANDINGZONE_BUCKET`) reached through `dagster_aws` S3."""

    s3: S3Resource
    bucket: str = Field(description="Landing-zone bucket (S3_LANDINGZONE_BUCKET).")
    dataset_layout: DatasetLayoutResource = Field(
        description="Where each dataset's objects are: the storage prefix, shared with the LTS "
        "and scratch."
    )
    download_concurrency: int = Field(
        default=8,
        description="Parallel landing-zone GETs and deletes (ARCHIVER_DOWNLOAD_CONCURRENCY).",
    )
    transient_fault_budget_s: int = Field(
        default=600,
        description="How long an operation keeps retrying transient S3 faults, and a GET whose "
        "connection dropped keeps resuming (ARCHIVER_TRANSIENT_FAULT_BUDGET_S).",
    )

    def step_faults(self) -> TransientFaults:
        """Transient-fault handling with this resource's budget and no log (for tests, tools)."""
        return TransientFaults(self.transient_fault_budget_s)

    def layout(self, pid: str) -> DatasetLayout:
        """The dataset's layout under the storage prefix (validates the PID)."""
        return self.dataset_layout.of(pid)

    def list_raw_files(self, pid: str, faults: TransientFaults | None = None) -> dict[str, int]:
        """Maps each of the dataset's files (path relative to `raw_files/`) to its size.

        With `faults`, each page request is retried within its budget (a step's listing);
        without, a failure is raised at once (a sensor's, which tries again on its next tick).
        """
        prefix = self.layout(pid).raw_files_key
        return {
            key[len(prefix) :]: int(item["Size"]) for key, item in self._list_items(prefix, faults)
        }

    def list_raw_objects(
        self, pid: str, faults: TransientFaults | None = None
    ) -> dict[str, LandingZoneObject]:
        """Maps each of the dataset's files to its object's current ETag and size (one LIST)."""
        prefix = self.layout(pid).raw_files_key
        return {
            key[len(prefix) :]: LandingZoneObject(etag=item.get("ETag"), size=int(item["Size"]))
            for key, item in self._list_items(prefix, faults)
        }

    def _list_items(
        self, prefix: str, faults: TransientFaults | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every object under `prefix`, page by page; a failed page is asked for again."""
        client = shared_client(self.s3)
        token: dict[str, str] = {}
        while True:
            try:
                page = call_or_retry(
                    faults,
                    f"LIST s3://{self.bucket}/{prefix}",
                    partial(client.list_objects_v2, Bucket=self.bucket, Prefix=prefix, **token),
                )
            except Exception as error:
                raise LandingZoneError(
                    f"cannot list s3://{self.bucket}/{prefix}: {error}"
                ) from error
            for item in page.get("Contents", []):
                yield item["Key"], item
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def open_raw_files(
        self, pid: str, files: Iterable[tuple[str, int]], faults: TransientFaults | None = None
    ) -> Generator[RawObject, None, None]:
        """Yields a readable stream and its object's ETag and size per `(relative path, size)`.

        In the given order; each stream is closed when the next is requested. The ETag and size
        are those of the GET the stream reads, so they identify exactly the bytes read.

        Small objects are downloaded ahead by `download_concurrency` threads sharing one client,
        at most `download_concurrency` of them (so at most that many x `PREFETCH_MAX_BYTES` in
        memory). A large object is streamed straight from its GET response, which is opened
        only shortly before its turn: when the object before it has `OPEN_AHEAD_BYTES` left to
        read. That hides the server's time to first byte (moto reads the whole object before it
        answers, docs/performance.md) without leaving a response idle for long: a real S3
        endpoint closes connections nobody reads from.

        A GET refused for a moment is retried, and one whose connection drops mid-transfer
        resumes from the next byte with a ranged GET of the same object (`resumable_get.py`),
        each within the budget of `faults` (this resource's budget if None), which counts them.
        """
        prefix = self.layout(pid).raw_files_key
        client = shared_client(self.s3)
        faults = faults or self.step_faults()
        # Per file: its prefetch or opened GET, or (key, size) of a large one not opened yet.
        window: deque[Future[RawObject] | tuple[str, int]] = deque()

        def open_large(key: str, size: int) -> Future[RawObject]:
            return pool.submit(self._open_stream, client, key, size, faults)

        def open_next_ahead() -> None:
            if window and isinstance(window[0], tuple):
                window[0] = open_large(*window[0])

        def next_stream() -> RawObject:
            pending = window.popleft()
            if isinstance(pending, tuple):
                pending = open_large(*pending)
            stream, source = pending.result()
            if isinstance(stream, _NearEndBody):
                stream.on_near_end(open_next_ahead)
            else:
                open_next_ahead()  # a prefetched object: nothing left to wait for
            return stream, source

        try:
            with ThreadPoolExecutor(max_workers=self.download_concurrency) as pool:
                for path, size in files:
                    if size <= PREFETCH_MAX_BYTES:
                        window.append(pool.submit(self._download, client, prefix + path, faults))
                    else:
                        window.append((prefix + path, size))
                    if len(window) >= self.download_concurrency:
                        stream, source = next_stream()
                        with stream:
                            yield stream, source
                while window:
                    stream, source = next_stream()
                    with stream:
                        yield stream, source
        finally:
            _close_unread(window)

    def _download(self, client: Any, key: str, faults: TransientFaults) -> RawObject:
        """A small object, read whole into memory."""
        body, source = self._get(client, key, faults)
        with body:
            try:
                return io.BytesIO(body.readall()), source
            except Exception as error:
                raise LandingZoneError(f"cannot read s3://{self.bucket}/{key}: {error}") from error

    def _open_stream(self, client: Any, key: str, size: int, faults: TransientFaults) -> RawObject:
        """A large object's GET response, to be streamed."""
        body, source = self._get(client, key, faults)
        return cast(BinaryIO, _NearEndBody(body, size, OPEN_AHEAD_BYTES)), source

    def _get(self, client: Any, key: str, faults: TransientFaults) -> tuple[Any, LandingZoneObject]:
        """The object's GET body, resuming after a lost connection (data not yet read)."""
        request = f"GET s3://{self.bucket}/{key}"
        try:
            answer = faults.call(request, lambda: client.get_object(Bucket=self.bucket, Key=key))
        except Exception as error:
            raise LandingZoneError(f"cannot read s3://{self.bucket}/{key}: {error}") from error
        source = LandingZoneObject(etag=answer.get("ETag"), size=answer["ContentLength"])

        def reopen(offset: int) -> Any:
            condition = {"IfMatch": source.etag} if source.etag else {}
            try:
                ranged = client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={offset}-", **condition
                )
            except ClientError as error:
                if is_transient_s3_error(error):
                    raise ConnectionError(str(error)) from error
                raise LandingZoneError(
                    f"cannot resume s3://{self.bucket}/{key} at byte {offset}: {error}"
                ) from error
            return ranged["Body"]

        body = ResumableBody(answer["Body"], source.size, reopen, faults.budget(), request)
        return body, source

    def delete_files(
        self, pid: str, paths: Iterable[str], faults: TransientFaults | None = None
    ) -> int:
        """Deletes exactly these files of the dataset (the ones archived); returns how many.

        Never a whole prefix: objects nobody archived, and the files of a dataset whose PID
        nests in this one (`p` and `p/q`), stay where they are. The keys go out in
        `download_concurrency` parallel `DeleteObjects` requests of at most 1000 keys (S3's
        limit): a server that frees each object's storage as it deletes it (moto does, see
        docs/performance.md) then works on several at once. With `faults`, a batch refused for a
        moment, and the keys S3 reports as failed for a transient reason, are sent again within
        the budget (a delete is idempotent). Every batch is attempted; any object that could
        not be deleted fails the call, naming the objects.
        """
        prefix = self.layout(pid).raw_files_key
        client = shared_client(self.s3)
        keys = [prefix + path for path in paths]
        if not keys:
            return 0
        size = min(DELETE_BATCH_MAX, -(-len(keys) // self.download_concurrency))
        batches = [keys[start : start + size] for start in range(0, len(keys), size)]

        def delete(batch: list[str]) -> list[Any]:
            def attempt() -> list[Any]:
                objects = [{"Key": key} for key in pending]
                answer = client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
                failed = list(answer.get("Errors", []))
                pending[:] = [error["Key"] for error in failed]
                if any(error.get("Code") in TRANSIENT_S3_CODES for error in failed):
                    raise PartialDeleteError(failed)
                return failed

            pending = list(batch)
            try:
                return call_or_retry(faults, f"DELETE s3://{self.bucket}/{prefix}...", attempt)
            except PartialDeleteError as error:
                return error.failed

        with ThreadPoolExecutor(max_workers=min(self.download_concurrency, len(batches))) as pool:
            outcomes = [pool.submit(delete, batch) for batch in batches]
        errors: list[Any] = []
        for outcome in outcomes:
            try:
                errors.extend(outcome.result())
            except Exception as error:
                errors.append(str(error))
        if errors:
            raise LandingZoneError(f"cannot delete from s3://{self.bucket}: {errors}")
        return len(keys)


class _NearEndBody(io.RawIOBase):
    """A streamed GET response body that calls back once when at most `ahead` bytes remain."""

    def __init__(self, body: Any, size: int, ahead: int) -> None:
        super().__init__()
        self._body = body
        self._left = size
        self._ahead = ahead
        self._near_end: Callable[[], None] | None = None

    def on_near_end(self, callback: Callable[[], None]) -> None:
        """Calls `callback` (in the reading thread) once at most `ahead` bytes are left."""
        self._near_end = callback
        self._check()

    def _check(self) -> None:
        if self._near_end is not None and self._left <= self._ahead:
            near_end, self._near_end = self._near_end, None
            near_end()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = int(self._body.readinto(buffer))
        self._left -= n
        self._check()
        return n

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _close_unread(window: "deque[Future[RawObject] | tuple[str, int]]") -> None:
    """Closes the responses opened for objects nobody read (the consumer stopped early)."""
    for pending in window:
        if isinstance(pending, Future) and not pending.cancel() and pending.exception() is None:
            pending.result()[0].close()
