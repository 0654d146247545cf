"""Materialization metadata shared by the archival and retrieval ops: sizes, rates, SciCat job."""

from collections.abc import Mapping

from dagster import MetadataValue

from archiver_dagster.tags import JOB_ID_TAG, JOB_TYPE_TAG

MEGABYTE = 1_000_000
# SciCat requests a step had to retry (transient faults it rode out), per materialization.
TRANSIENT_FAULTS_KEY = "scicat_transient_faults"
# S3 requests a step had to retry or resume (transient faults it rode out), per materialization.
S3_TRANSIENT_FAULTS_KEY = "s3_transient_faults"


def throughput(num_bytes: int, seconds: float) -> dict[str, MetadataValue]:
    """Bytes, seconds and MB/s of one step, as Dagster metadata."""
    rate = num_bytes / MEGABYTE / seconds if seconds > 0 else 0.0
    return {
        "bytes": MetadataValue.int(num_bytes),
        "seconds": MetadataValue.float(float(round(seconds, 3))),
        "MB/s": MetadataValue.float(float(round(rate, 1))),
    }


def scicat_job_metadata(tags: Mapping[str, str]) -> dict[str, MetadataValue]:
    """The SciCat job behind the run, shown on the partition's page (empty for UI runs)."""
    if JOB_ID_TAG not in tags:
        return {}
    return {
        "scicat_job_id": MetadataValue.text(tags[JOB_ID_TAG]),
        "scicat_job_type": MetadataValue.text(tags.get(JOB_TYPE_TAG, "")),
    }
