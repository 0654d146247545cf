"""`PooledPostgresStorage` on the session's PostgreSQL: connections kept, replaced, closed.

What a process holds is read from the server (`pg_stat_activity`), not from SQLAlchemy.
"""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.errors import DagsterInvalidConfigError
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from archiver_dagster_tests.helpers import wait_until
from devstack.demo import open_instance
from devstack.postgres import PostgresServer


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.database() as name:
        yield name


@contextmanager
def pooled_instance(
    server: PostgresServer, database: str, home: Path, pool: dict[str, Any] | None = None
) -> Iterator[DagsterInstance]:
    """An instance on `database` in the production storage, with `pool` settings if given."""
    storage = server.dagster_storage(database)
    if pool is not None:
        storage["custom"]["config"]["pool"] = pool
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage}))
    with open_instance(home) as instance:
        yield instance


def drop_connections(server: PostgresServer, database: str) -> None:
    """Ends every connection to `database` from the server side, as a restart would."""
    server.sql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    )
    wait_until(lambda: not server.backends(database), 10, what="backends to end")


def use_every_storage(instance: DagsterInstance) -> None:
    """One call into each of the run, event log and schedule storage."""
    instance.get_run_records(limit=1)
    instance.get_dynamic_partitions("datasets")
    instance.all_instigator_state()


def test_the_three_storages_share_one_kept_connection(postgres_server, database, tmp_path):
    with pooled_instance(postgres_server, database, tmp_path / "home") as instance:
        use_every_storage(instance)
        kept = postgres_server.backends(database)
        for _ in range(20):
            use_every_storage(instance)

        assert len(kept) == 1
        assert postgres_server.backends(database) == kept


@pytest.mark.parametrize(("ping_after_idle_s", "idle_s"), [(0, 0.0), (1, 1.2)])
def test_a_dropped_connection_is_replaced_without_a_failed_call(
    postgres_server, database, tmp_path, ping_after_idle_s, idle_s
):
    pool = {"ping_after_idle_seconds": ping_after_idle_s}
    with pooled_instance(postgres_server, database, tmp_path / "home", pool) as instance:
        instance.add_dynamic_partitions("datasets", ["kept"])
        use_every_storage(instance)
        dropped = postgres_server.backends(database)
        drop_connections(postgres_server, database)
        time.sleep(idle_s)

        use_every_storage(instance)

        assert instance.get_dynamic_partitions("datasets") == ["kept"]
        replaced = postgres_server.backends(database)
        assert len(replaced) == 1
        assert not replaced & dropped


def test_a_connection_dropped_within_the_idle_window_fails_one_call_then_the_pool_recovers(
    postgres_server, database, tmp_path
):
    pool = {"ping_after_idle_seconds": 60}
    with pooled_instance(postgres_server, database, tmp_path / "home", pool) as instance:
        use_every_storage(instance)
        drop_connections(postgres_server, database)

        with pytest.raises(OperationalError):
            instance.get_dynamic_partitions("datasets")
        use_every_storage(instance)

        assert len(postgres_server.backends(database)) == 1


def test_a_schema_probe_that_found_its_column_asks_the_catalog_no_more(
    postgres_server, database, tmp_path
):
    with pooled_instance(postgres_server, database, tmp_path / "home") as instance:
        statements: list[str] = []
        engine = instance.run_storage._engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

        def catalog_queries() -> int:
            return sum("pg_catalog" in statement for statement in statements)

        instance.get_run_records(limit=1)
        first = catalog_queries()
        for _ in range(4):
            instance.get_run_records(limit=1)

        assert first > 0  # the first call asked whether `runs` has its start and end times
        assert catalog_queries() == first
        assert len(statements) >= 5


def test_concurrent_callers_share_a_bounded_pool_sized_from_the_environment(
    postgres_server, database, tmp_path, monkeypatch
):
    monkeypatch.setenv("TEST_POOL_SIZE", "1")
    pool = {"size": {"env": "TEST_POOL_SIZE"}, "max_overflow": 2}
    with pooled_instance(postgres_server, database, tmp_path / "home", pool) as instance:
        with ThreadPoolExecutor(max_workers=12) as threads:
            results = list(threads.map(lambda _: use_every_storage(instance), range(120)))

        assert results == [None] * 120
        # Overflow connections are closed as they are returned; `size` are kept.
        wait_until(
            lambda: len(postgres_server.backends(database)) == 1, 10, what="overflow to close"
        )


def test_an_unknown_pool_setting_is_refused(postgres_server, database, tmp_path):
    unknown = {"max_connections": 5}
    with (
        pytest.raises(DagsterInvalidConfigError, match="max_connections"),
        pooled_instance(postgres_server, database, tmp_path / "home", unknown),
    ):
        pass


def test_disposing_the_instance_closes_the_connections(postgres_server, database, tmp_path):
    with pooled_instance(postgres_server, database, tmp_path / "home") as instance:
        with ThreadPoolExecutor(max_workers=4) as threads:
            list(threads.map(lambda _: use_every_storage(instance), range(40)))
        assert postgres_server.backends(database)

    wait_until(lambda: not postgres_server.backends(database), 10, what="connections to close")


def test_the_webserver_replaces_the_pool_with_its_own(postgres_server, database, tmp_path):
    with pooled_instance(postgres_server, database, tmp_path / "home") as instance:
        use_every_storage(instance)
        pooled = postgres_server.backends(database)

        instance.optimize_for_webserver(statement_timeout=5000, pool_recycle=3600, max_overflow=4)
        use_every_storage(instance)

        webserver = wait_until(
            lambda: (found := postgres_server.backends(database)) and not found & pooled and found,
            10,
            what="the pooled connections to close",
        )
        assert len(webserver) == 3
