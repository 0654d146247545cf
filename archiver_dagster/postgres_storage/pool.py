"""The connection pool settings and the pooled SQLAlchemy engine each storage uses.

dagster-postgres opens a new connection for every storage call outside the webserver
(`NullPool`): a TCP connection, a new server backend and a SCRAM exchange each time. Under load
the daemon spends most of its time there (docs/performance.md, "Scale"); a pool pays that once
per connection. Decision 65 in docs/architecture.md.
"""

from typing import Any

from dagster_postgres.utils import create_pg_engine
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine


class PoolSettings(BaseModel):
    """How many PostgreSQL connections one process keeps open and may open at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(
        default=8,
        ge=1,
        description="Connections kept open once opened; a run worker needs one, the daemon more.",
    )
    max_overflow: int = Field(
        default=12,
        ge=0,
        description="Connections opened beyond `size` under a burst, closed when returned.",
    )
    timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="How long a caller waits for a connection when all are in use.",
    )
    recycle_seconds: int = Field(
        default=3600,
        ge=-1,
        description="A connection older than this is replaced at its next use (-1: never).",
    )


def pooled_engine(postgres_url: str, token_provider: Any, settings: PoolSettings) -> Engine:
    """An AUTOCOMMIT engine, as dagster-postgres builds, whose connections are kept and reused.

    `pool_pre_ping` tests a kept connection before handing it out, so a PostgreSQL restart or
    a dropped idle connection costs a reconnect, not a failed storage call.
    """
    return create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.timeout_seconds,
        pool_recycle=settings.recycle_seconds,
        pool_pre_ping=True,
    )
