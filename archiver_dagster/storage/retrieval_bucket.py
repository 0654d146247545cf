"""The S3 retrieval bucket: where retrieved datablocks wait for users, and their download links."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.storage.s3_clients import shared_client

# Object metadata (x-amz-meta-*), set when the upload starts, so known before the data is read:
FINGERPRINT_KEY = "fingerprint"  # of the registered contents (see retrieval.manifests)
ALGORITHM_KEY = "chkalg"
RUN_KEY = "run-id"  # the run that uploaded it: a failed run removes only its own uploads
RENEWED_KEY = "renewed-at"


class RetrievalBucketError(ArchiverSystemError):
    """The retrieval bucket could not be read or written."""


@dataclass(frozen=True)
class StoredObject:
    """What the bucket holds under a key."""

    size: int
    metadata: dict[str, str]


class RetrievalBucketResource(ConfigurableResource):
    """`S3_RETRIEVAL_BUCKET`, reached through `dagster_aws` S3; links for `S3_EXTERNAL_ENDPOINT`."""

    s3: S3Resource
    bucket: str = Field(description="Retrieval bucket (S3_RETRIEVAL_BUCKET).")
    external_endpoint: str = Field(
        default="", description="Endpoint in download links (S3_EXTERNAL_ENDPOINT); empty: S3's."
    )
    url_expiration_days: int = Field(
        default=7, description="Validity of download links, 1-7 days (S3_URL_EXPIRATION_DAYS)."
    )
    part_size_bytes: int = Field(default=64 * 1024 * 1024, description="Multipart part size.")
    transient_fault_budget_s: int = Field(
        default=600,
        description="How long a retrieval keeps retrying transient S3 faults before its dataset "
        "fails (ARCHIVER_TRANSIENT_FAULT_BUDGET_S).",
    )

    def client(self) -> BaseClient:
        """The archiver's S3 client (one per process, see `s3_clients`)."""
        return cast(BaseClient, shared_client(self.s3))

    def stored(self, key: str) -> StoredObject | None:
        """Size and metadata of the object at `key`, or None if there is none."""
        try:
            head = self.client().head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise RetrievalBucketError(f"cannot read s3://{self.bucket}/{key}: {error}") from error
        return StoredObject(int(head["ContentLength"]), dict(head.get("Metadata", {})))

    def renew(self, key: str, metadata: dict[str, str], renewed_at: str) -> None:
        """Copies the object onto itself: a new modification time restarts its expiry.

        boto3's managed copy switches to a multipart copy above 5 GB, as S3 requires.
        """
        self.client().copy(
            {"Bucket": self.bucket, "Key": key},
            self.bucket,
            key,
            ExtraArgs={
                "Metadata": {**metadata, RENEWED_KEY: renewed_at},
                "MetadataDirective": "REPLACE",
            },
        )

    @property
    def link_validity(self) -> timedelta:
        """How long a download link is valid after it was signed."""
        return timedelta(days=self.url_expiration_days)

    def presigned_url(self, key: str) -> str:
        """A download link users can reach (built for the external endpoint).

        The link is a bearer credential: it belongs in SciCat's job result only, never in a log
        or in Dagster's metadata.
        """
        s3 = self.s3
        client = boto3.client(
            "s3",
            endpoint_url=self.external_endpoint or s3.endpoint_url,
            region_name=s3.region_name,
            aws_access_key_id=s3.aws_access_key_id,
            aws_secret_access_key=s3.aws_secret_access_key,
            aws_session_token=s3.aws_session_token,
            config=Config(signature_version="s3v4"),  # SigV4: links valid up to 7 days
        )
        return str(
            client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=int(self.link_validity.total_seconds()),
            )
        )

    def remove_run_uploads(self, prefix: str, run_id: str) -> list[str]:
        """Aborts unfinished uploads under `prefix` and deletes objects this run uploaded."""
        client = self.client()
        removed: list[str] = []
        # Every page: a dataset may hold more than the 1000 keys one listing returns.
        uploads = client.get_paginator("list_multipart_uploads")
        for page in uploads.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                removed.append(upload["Key"])
        objects = client.get_paginator("list_objects_v2")
        for page in objects.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                stored = self.stored(item["Key"])
                if stored is not None and stored.metadata.get(RUN_KEY) == run_id:
                    client.delete_object(Bucket=self.bucket, Key=item["Key"])
                    removed.append(item["Key"])
        return removed


def object_metadata(fingerprint: str, algorithm: str, run_id: str) -> dict[str, Any]:
    """The metadata a retrieved datablock carries in the bucket."""
    return {FINGERPRINT_KEY: fingerprint, ALGORITHM_KEY: algorithm, RUN_KEY: run_id}
