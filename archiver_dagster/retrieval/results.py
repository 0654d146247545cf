"""The download links a finished retrieve job hands to its user."""

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from archiver_dagster.scicat.client import SciCatClient, SciCatNotFoundError
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource


def download_entries(
    client: SciCatClient, bucket: RetrievalBucketResource, pids: Iterable[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """`jobResultObject.result`: one `{datasetId, name, size, archiveId, url}` per datablock.

    Also returns the datasets SciCat no longer has (deleted after their retrieval): they get
    no entries, and the other datasets' links are still reported.
    """
    entries = []
    gone = []
    for pid in pids:
        try:
            blocks = client.get_datablocks(pid)
        except SciCatNotFoundError:
            gone.append(pid)
            continue
        for block in sorted(blocks, key=lambda block: block.archive_id):
            entries.append(
                {
                    "datasetId": pid,
                    "name": PurePosixPath(block.archive_id).name,
                    "size": block.packed_size,
                    "archiveId": block.archive_id,
                    "url": bucket.presigned_url(block.archive_id),
                }
            )
    return entries, gone
