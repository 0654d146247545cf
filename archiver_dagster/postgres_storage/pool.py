"""The connection pool settings and the pooled SQLAlchemy engine each storage uses.

dagster-postgres opens a new connection for every storage call outside the webserver
(`NullPool`): a TCP connection, a new server backend and a SCRAM exchange each time. Under load
the daemon spends most of its time there (docs/performance.md, "Scale"); a pool pays that once
per connection. Decision 65 in docs/architecture.md.
"""

import time
from contextlib import closing
from typing import Any

from dagster_postgres.utils import create_pg_engine
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

IDLE_SINCE = "archiver_idle_since"


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
    ping_after_idle_seconds: float = Field(
        default=2,
        ge=0,
        description="A kept connection idle this long is tested before use (0: before every use).",
    )


def pooled_engine(postgres_url: str, token_provider: Any, settings: PoolSettings) -> Engine:
    """An AUTOCOMMIT engine, as dagster-postgres builds, whose connections are kept and reused.

    A kept connection that has been idle `ping_after_idle_seconds` is tested (`SELECT 1`)
    before it is handed out, so a PostgreSQL restart or a connection dropped while idle costs a
    reconnect, not a failed storage call. SQLAlchemy's `pool_pre_ping` tests before every use:
    under load one more round trip per storage call, a third of the daemon's time in the scale
    benchmark, for connections returned milliseconds before.
    """
    engine = create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.timeout_seconds,
        pool_recycle=settings.recycle_seconds,
    )
    _test_when_idle(engine, settings.ping_after_idle_seconds)
    return engine


def _test_when_idle(engine: Engine, idle_s: float) -> None:
    dbapi_error = engine.dialect.loaded_dbapi.Error

    def returned(dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        entry.info[IDLE_SINCE] = time.monotonic()

    def handed_out(
        dbapi_connection: Any, entry: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        since = entry.info.get(IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_s:
            return  # just opened, or returned moments ago
        try:
            with closing(dbapi_connection.cursor()) as cursor:
                cursor.execute("SELECT 1")
        except dbapi_error as error:
            # The pool discards this connection and hands out another (SQLAlchemy's documented
            # pessimistic disconnect handling through the checkout event).
            raise exc.DisconnectionError(str(error)) from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", handed_out)
