"""deploy/dagster.yaml, the production instance: valid, complete, and as strict as the dev one."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster_docker import DockerRunLauncher
from dagster_postgres.utils import pg_url_from_config

from archiver_dagster.cli import main
from archiver_dagster.definitions import defs
from archiver_dagster.postgres_storage import PooledPostgresStorage
from archiver_dagster.postgres_storage.pool import PoolSettings, pooled_engine
from archiver_dagster.settings import SETTINGS
from archiver_dagster_tests.deploy.files import DEPLOY, REPOSITORY

PRODUCTION_YAML = DEPLOY / "dagster.yaml"
POSTGRES_VARIABLES = (
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
)


def production_config() -> dict:
    return yaml.safe_load(PRODUCTION_YAML.read_text())


@pytest.fixture
def production_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DAGSTER_HOME with deploy/dagster.yaml, its Postgres variables set (nothing connects)."""
    values = {"HOST": "db", "PORT": "5432", "USER": "dagster", "PASSWORD": "secret", "DB": "d"}
    for suffix, value in values.items():
        monkeypatch.setenv(f"DAGSTER_PG_{suffix}", value)
    shutil.copy(PRODUCTION_YAML, tmp_path / "dagster.yaml")
    yield tmp_path


def test_the_production_config_is_a_valid_instance_config(production_home):
    config, _ = dagster_instance_config(str(production_home))
    custom = config["storage"]["custom"]
    storage = process_config(PooledPostgresStorage.config_type(), custom["config"])

    assert (custom["module"], custom["class"]) == (
        PooledPostgresStorage.__module__.rsplit(".", 1)[0],
        PooledPostgresStorage.__name__,
    )
    assert storage.success, storage.errors
    assert storage.value is not None
    engine = pooled_engine(
        pg_url_from_config(storage.value), None, PoolSettings.model_validate(storage.value["pool"])
    )
    assert (engine.url.host, engine.url.password, engine.dialect.driver) == (
        "db",
        "secret",
        "psycopg2",
    )
    assert (engine.pool.size(), engine.pool._max_overflow) == (8, 12)
    assert config["sensors"] == {"use_threads": True, "num_workers": 4}
    assert config["schedules"]["use_threads"] is True


def test_the_run_launcher_and_the_run_queue_load(production_home):
    ref = InstanceRef.from_dir(str(production_home))

    launcher = ref.run_launcher
    coordinator = ref.run_coordinator

    assert isinstance(launcher, DockerRunLauncher)
    assert launcher.networks == ["archiver"]
    assert type(coordinator).__name__ == "QueuedRunCoordinator"
    assert coordinator.dequeue_use_threads
    assert coordinator.get_run_queue_config().max_user_code_failure_retries == 5


def test_every_run_container_gets_every_archiver_variable():
    env_vars = production_config()["run_launcher"]["config"]["env_vars"]

    assert len(env_vars) == len(set(env_vars))
    assert set(env_vars) == {*POSTGRES_VARIABLES, *(setting.name for setting in SETTINGS)}


def test_the_policies_are_those_of_the_repository_dagster_yaml():
    production = production_config()
    development = yaml.safe_load((REPOSITORY / "dagster.yaml").read_text())

    for section in ("concurrency", "run_monitoring", "python_logs", "telemetry"):
        assert production[section] == development[section], section


def test_every_sensor_has_a_thread_of_its_own():
    sensors = production_config()["sensors"]

    assert sensors["use_threads"]
    assert sensors["num_workers"] >= len(list(defs.sensors or []))


def test_ticks_are_purged_and_runs_are_not():
    production = production_config()

    assert set(production["retention"]) == {"sensor", "schedule"}
    assert all(days > 0 for days in production["retention"]["sensor"]["purge_after_days"].values())


def test_the_pools_step_runs_on_the_production_config(postgres_server, tmp_path, monkeypatch):
    """The container's first step, `archiver-dagster apply-pools`, on a real PostgreSQL."""
    with postgres_server.database() as database:
        for name, value in postgres_server.env(database).items():
            monkeypatch.setenv(name, value)
        shutil.copy(PRODUCTION_YAML, tmp_path / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        monkeypatch.setenv("ARCHIVER_LTS_WRITE_LIMIT", "3")

        assert main(["apply-pools"]) == 0

        with DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
            storage = instance.event_log_storage
            assert type(storage).__name__ == "PooledPostgresEventLogStorage"
            assert storage.get_concurrency_info("lts_write").slot_count == 3
            assert storage.get_concurrency_info("lts_free_space").slot_count == 1
            queue = instance.get_concurrency_config().run_queue_config
            assert queue is not None
            assert queue.max_concurrent_runs == 8
