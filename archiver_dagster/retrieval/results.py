"""The download links a finished retrieve job hands to its user, and what may be logged of them.

A presigned link is a bearer credential: whoever holds it downloads the data until it expires.
Links go into SciCat's `jobResultObject.result` only; logs name the objects' keys and expiry.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
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


def describe_links(
    entries: Sequence[dict[str, Any]], valid_until: datetime, max_keys: int = 20
) -> str:
    """A loggable account of download links: the objects' keys and the expiry, no URL."""
    keys = ", ".join(str(entry["archiveId"]) for entry in entries[:max_keys])
    if len(entries) > max_keys:
        keys += f" and {len(entries) - max_keys} more"
    expiry = valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{len(entries)} download links valid until {expiry} (keys: {keys or 'none'})"
