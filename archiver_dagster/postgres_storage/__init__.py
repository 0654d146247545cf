"""Dagster's PostgreSQL storage with every process keeping its connections open for reuse."""

from archiver_dagster.postgres_storage.storage import PooledPostgresStorage

__all__ = ["PooledPostgresStorage"]
