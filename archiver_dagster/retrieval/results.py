"""The download links a finished retrieve job hands to its user."""

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource


def download_entries(
    client: SciCatClient, bucket: RetrievalBucketResource, pids: Iterable[str]
) -> list[dict[str, Any]]:
    """`jobResultObject.result`: one `{datasetId, name, size, archiveId, url}` per datablock."""
    entries = []
    for pid in pids:
        for block in sorted(client.get_datablocks(pid), key=lambda block: block.archive_id):
            entries.append(
                {
                    "datasetId": pid,
                    "name": PurePosixPath(block.archive_id).name,
                    "size": block.packed_size,
                    "archiveId": block.archive_id,
                    "url": bucket.presigned_url(block.archive_id),
                }
            )
    return entries
