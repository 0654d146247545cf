"""Shared fixtures: the local stack (SciCat simulator + S3 server + LTS folder) and instances."""

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from hypothesis import settings

from archiver_dagster_tests.scicat_contract import ContractChecker
from devstack.demo import open_instance
from devstack.postgres import PostgresServer, PostgresUnavailableError
from devstack.scicat_sim.recording import observe_exchanges
from devstack.seed import SampleFile, SciCatSeeder, sample_files, upload_files
from devstack.soak.s3_proxy import FaultyProxy
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

# Hypothesis fails an example that takes over 200 ms: a timed assertion, which a loaded machine
# breaks for correct code. The examples are bounded by their number instead.
settings.register_profile("archiver", deadline=None)
settings.load_profile("archiver")


@pytest.fixture(scope="session")
def scicat_contract() -> Iterator[ContractChecker]:
    """Checks every exchange with any SciCat simulator of the session against the SDK."""
    checker = ContractChecker()
    stop = observe_exchanges(checker)
    yield checker
    stop()


@pytest.fixture(autouse=True)
def _scicat_contract_holds(scicat_contract: ContractChecker) -> Iterator[None]:
    """Fails a test during which the simulator received or sent anything the SDK forbids."""
    scicat_contract.take()  # what arrived between tests belongs to no test
    yield
    problems = scicat_contract.take()
    assert not problems, "SciCat contract broken:\n" + "\n".join(problems[:20])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One stack for the session; its variables are set for the session and restored after."""
    with (
        LocalStack(tmp_path_factory.mktemp("stack")) as local_stack,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in local_stack.env().items():
            patch.setenv(name, value)
        yield local_stack


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session, started on first use.

    Without the server binaries the tests that need it fail, saying what is missing: they are
    part of the suite, not optional.
    """
    server = PostgresServer()
    problem = None
    try:
        server.start()
    except PostgresUnavailableError as error:
        problem = str(error)
    if problem is not None:
        server.stop()
        pytest.fail(f"cannot start PostgreSQL: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def memory_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder in memory (/dev/shm) for Dagster's sqlite storage; removed after the session.

    Dagster's sqlite storage syncs every event to disk, and creating it runs its migrations:
    on a loaded machine's disk that took most of a sensor or asset test's time. The durability
    of Dagster's own storage is not under test. Without /dev/shm, a temporary folder.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("memory")
        return
    path = Path(tempfile.mkdtemp(prefix="archiver-tests-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def instance_template(memory_dir: Path) -> Path:
    """A DAGSTER_HOME whose sqlite databases are created and migrated once per session."""
    home = memory_dir / "instance-template"
    home.mkdir()
    with DagsterInstance.local_temp(str(home)) as template:
        template.get_run_records(limit=1)
        template.get_dynamic_partitions("datasets")
    return home


@pytest.fixture
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DagsterInstance]:
    """An ephemeral Dagster instance (runs and events in memory) unless parametrized.

    What most tests check is the archiver's behaviour, not Dagster's storage, and a run takes
    half the time it takes on sqlite. With `indirect` parametrization (`STORAGES`), "sqlite"
    gives a copy of the session's migrated sqlite instance (`sqlite_instance`) and "postgres" a
    database of its own on the session's PostgreSQL server, in the production storage
    (`PooledPostgresStorage`).
    """
    storage = getattr(request, "param", None)
    if storage is None:
        with DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster")) as ephemeral:
            yield ephemeral
        return
    if storage == "sqlite":
        yield request.getfixturevalue("sqlite_instance")
        return
    home = tmp_path / "dagster_home"
    home.mkdir()
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as database:
        config = {"storage": server.dagster_storage(database)}
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
        with open_instance(home) as postgres_instance:
            yield postgres_instance


@pytest.fixture
def sqlite_instance(instance_template: Path, memory_dir: Path) -> Iterator[DagsterInstance]:
    """A real sqlite-backed Dagster instance of its own, a copy of the session's template."""
    home = memory_dir / f"instance-{uuid.uuid4().hex}"
    shutil.copytree(instance_template, home)
    try:
        with DagsterInstance.local_temp(str(home)) as local_instance:
            yield local_instance
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def unique_pid() -> Callable[[], str]:
    """Makes PIDs like SciCat handles (with a `/`), unique per call."""
    return lambda: f"20.500.12345/{uuid.uuid4()}"


Seed = Callable[..., list[SampleFile]]


@pytest.fixture
def seed_dataset(stack: LocalStack) -> Seed:
    """Registers a dataset in SciCat (with md5 `chk`s unless told) and uploads its files."""
    return dataset_seeder(stack)


def dataset_seeder(stack: LocalStack) -> Seed:
    """Registers a dataset in SciCat (with md5 `chk`s unless told) and uploads its files.

    All files are uploaded, or the ones given in `upload` (e.g. with other content).
    """
    seeder = SciCatSeeder(stack.scicat.url, "archiver", "archiver-password")

    def seed(
        pid: str,
        files: list[SampleFile] | None = None,
        upload: list[SampleFile] | None = None,
        chk_alg: str | None = "md5",
    ) -> list[SampleFile]:
        files = files if files is not None else sample_files(6, 1500)
        seeder.create_dataset(pid, files, chk_alg)
        upload_files(
            stack.s3.client(),
            LANDING_ZONE_BUCKET,
            "openem-network",
            pid,
            files if upload is None else upload,
        )
        return files

    return seed


TMPFS_BYTES = 32 * 1024 * 1024


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 32 MiB tmpfs mounted for the test: another filesystem than /tmp, one that fills up.

    Mounting needs root, which CI and the development machines have; elsewhere the test is
    skipped, saying why.
    """
    root = tmp_path / "tmpfs"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(root)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.fixture
def s3_proxy(stack: LocalStack) -> Iterator[FaultyProxy]:
    """A proxy in front of the stack's S3 server that injects 503s and resets when told."""
    host, port = stack.s3.url.removeprefix("http://").rsplit(":", 1)
    with FaultyProxy((host, int(port))) as proxy:
        yield proxy
