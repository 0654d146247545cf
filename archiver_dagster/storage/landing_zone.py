"""The S3 landing zone: list a dataset's objects, stream them in order, delete them."""

import io
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, cast

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.storage.layout import DatasetLayout

# Objects up to this size are fetched whole by worker threads, ahead of the tar writer; larger
# ones are streamed. Bounds the memory of the read-ahead to concurrency x this size.
PREFETCH_MAX_BYTES = 8 * 1024 * 1024
# S3 accepts at most this many keys per DeleteObjects request.
DELETE_BATCH_MAX = 1000


class LandingZoneError(ArchiverSystemError):
    """The landing zone could not be listed, read or cleaned."""


class LandingZoneResource(ConfigurableResource):
    """The landing-zone bucket (`S3_LANDINGZONE_BUCKET`) reached through `dagster_aws` S3."""

    s3: S3Resource
    bucket: str = Field(description="Landing-zone bucket (S3_LANDINGZONE_BUCKET).")
    storage_prefix: str = Field(
        default="openem-network", description="Key prefix (ARCHIVER_STORAGE_PREFIX)."
    )
    download_concurrency: int = Field(
        default=8,
        description="Parallel landing-zone GETs and deletes (ARCHIVER_DOWNLOAD_CONCURRENCY).",
    )

    def layout(self, pid: str) -> DatasetLayout:
        """The dataset's layout under this prefix (validates the PID)."""
        return DatasetLayout(self.storage_prefix, pid)

    def list_raw_files(self, pid: str) -> dict[str, int]:
        """Maps each of the dataset's files (path relative to `raw_files/`) to its size."""
        prefix = self.layout(pid).raw_files_key
        return {key[len(prefix) :]: size for key, size in self._list(prefix)}

    def _list(self, prefix: str) -> Iterator[tuple[str, int]]:
        paginator = self.s3.get_client().get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], int(item["Size"])
        except Exception as error:
            raise LandingZoneError(f"cannot list s3://{self.bucket}/{prefix}: {error}") from error

    def open_raw_files(
        self, pid: str, files: Iterable[tuple[str, int]]
    ) -> Generator[BinaryIO, None, None]:
        """Yields a readable stream per `(relative path, size)`, in the given order.

        Small objects are downloaded ahead by `download_concurrency` threads sharing one client,
        at most `download_concurrency` of them (so at most that many x `PREFETCH_MAX_BYTES` in
        memory). A large object's GET is opened only when its turn comes and streamed straight
        from the response: a GET opened ahead would sit idle while the objects before it are
        read, and a real S3 endpoint closes idle connections.
        """
        prefix = self.layout(pid).raw_files_key
        client = self.s3.get_client()
        window: deque[Future[BinaryIO] | str] = deque()
        with ThreadPoolExecutor(max_workers=self.download_concurrency) as pool:
            for path, size in files:
                if size <= PREFETCH_MAX_BYTES:
                    window.append(pool.submit(self._fetch, client, prefix + path, size))
                else:
                    window.append(prefix + path)
                if len(window) >= self.download_concurrency:
                    with self._open(client, window.popleft()) as stream:
                        yield stream
            while window:
                with self._open(client, window.popleft()) as stream:
                    yield stream

    def _open(self, client: Any, pending: "Future[BinaryIO] | str") -> BinaryIO:
        """The prefetched object, or the streaming GET of a large one opened now."""
        if isinstance(pending, str):
            return self._fetch(client, pending, None)
        return pending.result()

    def _fetch(self, client: Any, key: str, size: int | None) -> BinaryIO:
        """Reads a small object whole into memory; returns a large one's (`size` None) body."""
        try:
            body = client.get_object(Bucket=self.bucket, Key=key)["Body"]
            if size is not None:
                return io.BytesIO(body.read())
            return cast(BinaryIO, body)
        except Exception as error:
            raise LandingZoneError(f"cannot read s3://{self.bucket}/{key}: {error}") from error

    def delete_files(self, pid: str, paths: Iterable[str]) -> int:
        """Deletes exactly these files of the dataset (the ones archived); returns how many.

        Never a whole prefix: objects nobody archived, and the files of a dataset whose PID
        nests in this one (`p` and `p/q`), stay where they are. The keys go out in
        `download_concurrency` parallel `DeleteObjects` requests of at most 1000 keys (S3's
        limit): a server that frees each object's storage as it deletes it (moto: 0.1 s per
        256 MiB object) then works on several at once. Every batch is attempted; any object
        that could not be deleted fails the call, naming the objects.
        """
        prefix = self.layout(pid).raw_files_key
        client = self.s3.get_client()
        keys = [prefix + path for path in paths]
        if not keys:
            return 0
        size = min(DELETE_BATCH_MAX, -(-len(keys) // self.download_concurrency))
        batches = [keys[start : start + size] for start in range(0, len(keys), size)]

        def delete(batch: list[str]) -> list[Any]:
            objects = [{"Key": key} for key in batch]
            answer = client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
            return list(answer.get("Errors", []))

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
