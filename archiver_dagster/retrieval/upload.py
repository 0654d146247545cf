"""Streaming upload of one object: a writable sink, multipart beyond one part, abortable."""

import io
from typing import Any

from botocore.client import BaseClient


class MultipartSink(io.RawIOBase):
    """Writes go to S3 in parts of `part_size` bytes; `commit()` finishes, `abort()` discards.

    Memory holds at most one part. An object smaller than one part is sent with one PUT.
    Nothing becomes visible in the bucket before `commit()`.
    """

    def __init__(
        self, client: BaseClient, bucket: str, key: str, part_size: int, metadata: dict[str, Any]
    ) -> None:
        super().__init__()
        self._client, self._bucket, self._key = client, bucket, key
        self._part_size = part_size
        self._metadata = metadata
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.bytes_written = 0

    def writable(self) -> bool:
        """Returns True: this is a sink."""
        return True

    def write(self, data: Any) -> int:
        """Buffers `data`, sending every full part."""
        view = memoryview(data).cast("B")
        self._buffer += view
        self.bytes_written += len(view)
        while len(self._buffer) >= self._part_size:
            self._send_part(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]
        return len(view)

    def _send_part(self, body: bytes) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, Metadata=self._metadata
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def commit(self) -> None:
        """Makes the object visible: the last part, then the multipart completion."""
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                Metadata=self._metadata,
            )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer.clear()

    def abort(self) -> None:
        """Discards everything written; nothing is left in the bucket."""
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
            self._upload_id = None
        self._buffer.clear()


class TeeReader(io.RawIOBase):
    """Reads from `raw` and writes every byte read to `sink` as well (one read, two uses)."""

    def __init__(self, raw: io.RawIOBase | Any, sink: MultipartSink) -> None:
        super().__init__()
        self._raw, self._sink = raw, sink

    def readable(self) -> bool:
        """Returns True: this stream can be read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Reads into `buffer` and forwards the same bytes to the sink."""
        view = memoryview(buffer).cast("B")
        count = self._raw.readinto(view)
        if count:
            self._sink.write(view[:count])
        return count or 0
