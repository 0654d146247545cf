"""`PooledPostgresStorage`: dagster-postgres' run, event log and schedule storage on one pool.

Configured in dagster.yaml as `storage: custom:` with dagster-postgres' own `postgres_db` (or
`postgres_url`) settings and an optional `pool:` (`PoolSettings`). The tables, queries and
migrations are dagster-postgres'; only how connections are held differs. The webserver still
replaces each engine with its own (`optimize_for_webserver`: statement timeout, one kept
connection per storage).
"""

from collections.abc import Callable, Mapping
from typing import Any, cast

from dagster import Field, IntSource
from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.config import pg_config
from dagster._core.storage.event_log import EventLogStorage
from dagster._core.storage.runs import RunStorage
from dagster._core.storage.schedules import ScheduleStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import Connection, Engine

from archiver_dagster.postgres_storage.pool import PoolSettings, pooled_engine


class _PooledEngine:
    """Puts a dagster-postgres storage on a pooled engine, which it may share.

    Also remembers the schema probes that came back true. Dagster asks the catalog whether a
    column or table exists on many calls (`has_run_stats_index_cols` on every
    `get_run_records`, `_has_instigators_table` on every sensor tick): one more catalog query
    each time. A column or table, once there, stays (migrations add them), so a true answer is
    kept for the storage's life; a false one is asked again, so a migration run meanwhile is
    seen.
    """

    _engine: Engine
    _schema_facts: set[str]

    def _use_engine(self, engine: Engine) -> None:
        # The storage's own __init__ has made (and, on first use, migrated) the tables through
        # its NullPool engine, which holds no connection: nothing to close.
        self._engine = engine
        self._schema_facts = set()

    def _schema_fact(self, name: str, probe: Callable[[], bool]) -> bool:
        facts = getattr(self, "_schema_facts", None)  # None while the storage initialises
        if facts is not None and name in facts:
            return True
        found = probe()
        if found and facts is not None:
            facts.add(name)
        return found

    def optimize_for_webserver(
        self, statement_timeout: int, pool_recycle: int, max_overflow: int
    ) -> None:
        """Closes the pool's idle connections before the webserver's engine replaces it."""
        self._engine.dispose()
        super().optimize_for_webserver(  # type: ignore[misc]
            statement_timeout, pool_recycle, max_overflow
        )

    def dispose(self) -> None:
        """Disposes as the storage does, then closes the pool's idle connections."""
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledPostgresRunStorage(_PooledEngine, PostgresRunStorage):
    """dagster-postgres' run storage on a pooled engine."""

    def has_run_stats_index_cols(self) -> bool:
        """Whether `runs` has start and end times (asked of the catalog until it has)."""
        return self._schema_fact("runs.start_time", super().has_run_stats_index_cols)

    def has_backfill_id_column(self) -> bool:
        """Whether `runs` has `backfill_id` (asked of the catalog until it has)."""
        return self._schema_fact("runs.backfill_id", super().has_backfill_id_column)

    def has_bulk_actions_selector_cols(self) -> bool:
        """Whether `bulk_actions` has `selector_id` (asked of the catalog until it has)."""
        return self._schema_fact("bulk_actions.selector_id", super().has_bulk_actions_selector_cols)

    def has_bulk_action_job_name_column(self) -> bool:
        """Whether `bulk_actions` has `job_name` (asked of the catalog until it has)."""
        return self._schema_fact("bulk_actions.job_name", super().has_bulk_action_job_name_column)

    def has_backfill_tags_table(self) -> bool:
        """Whether `backfill_tags` exists (asked of the catalog until it does)."""
        return self._schema_fact("backfill_tags", super().has_backfill_tags_table)


class PooledPostgresEventLogStorage(_PooledEngine, PostgresEventLogStorage):
    """dagster-postgres' event log storage on a pooled engine."""

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        probe = super()._has_asset_key_col_on_connection
        return self._schema_fact(f"asset_keys.{column_name}", lambda: probe(conn, column_name))


class PooledPostgresScheduleStorage(_PooledEngine, PostgresScheduleStorage):
    """dagster-postgres' schedule and sensor storage on a pooled engine."""

    def _has_instigators_table(self, conn: Connection) -> bool:
        probe = super()._has_instigators_table
        return self._schema_fact("instigators", lambda: probe(conn))

    def _has_asset_daemon_asset_evaluations_table(self, conn: Connection) -> bool:
        probe = super()._has_asset_daemon_asset_evaluations_table
        return self._schema_fact("asset_daemon_asset_evaluations", lambda: probe(conn))


class PooledPostgresStorage(DagsterStorage, ConfigurableClass):
    """Runs, events and schedules in PostgreSQL, each process reusing its connections."""

    pool: PoolSettings

    def __init__(
        self,
        postgres_url: str,
        pool: PoolSettings | None = None,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ) -> None:
        self._inst_data = inst_data
        self.pool = pool or PoolSettings()
        self._run_storage = PooledPostgresRunStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._event_log_storage = PooledPostgresEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._schedule_storage = PooledPostgresScheduleStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        # One pool for the three: a process's connections are bounded by one `pool` setting,
        # and disposing the run or the event log storage (what DagsterInstance.dispose does;
        # it never disposes the schedule storage) closes them all.
        engine = pooled_engine(postgres_url, token_provider, self.pool)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._use_engine(engine)
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        """The instance config this storage was built from."""
        return self._inst_data

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        """dagster-postgres' storage settings plus `pool`."""
        pool_fields = {
            name: Field(IntSource, is_required=False, description=field.description)
            for name, field in PoolSettings.model_fields.items()
        }
        return {
            **cast(Mapping[str, Any], pg_config()),
            "pool": Field(pool_fields, is_required=False),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> "PooledPostgresStorage":
        """Builds the storage from its validated dagster.yaml settings."""
        return cls(
            postgres_url=pg_url_from_config(config_value),
            pool=PoolSettings.model_validate(config_value.get("pool") or {}),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )

    @property
    def event_log_storage(self) -> EventLogStorage:
        """The pooled event log storage."""
        return self._event_log_storage

    @property
    def run_storage(self) -> RunStorage:
        """The pooled run storage."""
        return self._run_storage

    @property
    def schedule_storage(self) -> ScheduleStorage:
        """The pooled schedule storage."""
        return self._schedule_storage
