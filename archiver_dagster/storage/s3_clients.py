"""One S3 client per process and S3 configuration, shared by every op and thread.

`S3Resource.get_client()` builds a new boto3 session each time, and with it re-reads botocore's
service models: CPU time paid by every op that touches S3 (and, in retrieval, by every bucket
operation; docs/performance.md). A boto3 client is thread-safe, so one per configuration is
enough. The cache is per process: a client (its connection pool) is never used across a fork.
"""

import os
import threading
from typing import Any

from dagster_aws.s3 import S3Resource

_lock = threading.Lock()
_owner_pid = os.getpid()
_clients: dict[str, Any] = {}


def shared_client(s3: S3Resource) -> Any:
    """The client of `s3.get_client()`, created once per process and configuration."""
    global _owner_pid
    key = s3.model_dump_json()
    with _lock:
        if _owner_pid != os.getpid():  # forked: the parent's clients are not ours to use
            _clients.clear()
            _owner_pid = os.getpid()
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = s3.get_client()
    return client
