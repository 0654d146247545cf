"""Materialization metadata shared by the archival ops: sizes, rates, checksums."""

from dagster import MetadataValue

MEGABYTE = 1_000_000


def throughput(num_bytes: int, seconds: float) -> dict[str, MetadataValue]:
    """Bytes, seconds and MB/s of one step, as Dagster metadata."""
    rate = num_bytes / MEGABYTE / seconds if seconds > 0 else 0.0
    return {
        "bytes": MetadataValue.int(num_bytes),
        "seconds": MetadataValue.float(float(round(seconds, 3))),
        "MB/s": MetadataValue.float(float(round(rate, 1))),
    }
