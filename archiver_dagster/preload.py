"""What the executor's forkserver imports once, so that every step process starts warm.

Importing the definitions loads every module a step needs. Creating (never using) one S3 client
also imports botocore's lazily loaded modules and reads its data files, work that each step
process touching S3 would otherwise do again (docs/performance.md). No network I/O.
"""

import gc

import boto3

import archiver_dagster.definitions  # noqa: F401 - imported for its side effect: loaded modules

boto3.session.Session().client(
    "s3",
    endpoint_url="http://127.0.0.1:9",  # never contacted
    region_name="us-east-1",
    aws_access_key_id="preload",
    aws_secret_access_key="preload",
)

# Everything loaded so far lives as long as the process: keep it out of the cyclic garbage
# collector's full passes in every forked step process (fewer objects to traverse), after
# collecting what is already garbage so that none of it is kept forever.
gc.collect()
gc.freeze()
