"""A throwaway PostgreSQL 15 server on 127.0.0.1 for the tests and the benchmarks.

`initdb` and `pg_ctl` come from PATH. PostgreSQL refuses to run as root, so under root the
server runs as an existing unprivileged user (`postgres`, else `nobody`) through `runuser`, in a
folder of /tmp that user owns. Clients authenticate with SCRAM and a password that needs URL
escaping, as a deployment's do. The server trades durability for speed (no fsync): it holds
nothing that must survive a crash. `stop()` removes everything.

    with PostgresServer() as server:
        with server.database() as name:
            url = server.url(name)  # postgresql+psycopg2://dagster:...@127.0.0.1:PORT/name
"""

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from devstack.lifecycle import StartStop
from devstack.s3_server import free_port

USER = "dagster"
# Characters a URL must escape: proves the password reaches the server as it was written.
PASSWORD_PREFIX = "p@ss:w/rd%"
SERVER_USERS = ("postgres", "nobody")
START_ATTEMPTS = 5
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    " -c full_page_writes=off -c max_connections=300"
)
# SQLAlchemy 2.0 maps `postgresql://` to psycopg2, 2.1 to psycopg 3 (docs/architecture.md,
# decision 56); a URL handed to SQLAlchemy directly names the driver dagster-postgres brings.
DRIVER = "postgresql+psycopg2"


def pooled_storage(config: dict[str, object]) -> dict[str, object]:
    """A dagster.yaml `storage` section: the archiver's pooled PostgreSQL storage on `config`."""
    return {
        "custom": {
            "module": "archiver_dagster.postgres_storage",
            "class": "PooledPostgresStorage",
            "config": config,
        }
    }


class PostgresUnavailableError(RuntimeError):
    """The server cannot be started here; the message says what is missing."""


def _server_user() -> str | None:
    """The unprivileged user to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailableError(
        f"running as root and none of the users {', '.join(SERVER_USERS)} exists to run "
        "PostgreSQL as (it refuses to run as root)"
    )


def _binaries() -> tuple[str, str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailableError(
            "the PostgreSQL server binaries initdb and pg_ctl are not on PATH; the tests and "
            "benchmarks that run on PostgreSQL need them (Debian: apt-get install postgresql-15, "
            "then PATH=/usr/lib/postgresql/15/bin:$PATH)"
        )
    return initdb, pg_ctl


class PostgresServer(StartStop):
    """A PostgreSQL server in a temporary folder of `parent` (default: the system's)."""

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent
        self.user = USER
        self.password = PASSWORD_PREFIX + secrets.token_hex(4)
        self.host = "127.0.0.1"
        self.port = 0
        self._root: Path | None = None
        self._runas: list[str] = []

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._runas, *args], capture_output=True, text=True, check=check, timeout=120
        )

    def start(self) -> "PostgresServer":
        """Initialises a cluster and starts it on a free port of 127.0.0.1."""
        initdb, pg_ctl = _binaries()
        server_user = _server_user()
        if self.parent is not None:
            self.parent.mkdir(parents=True, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix="archiver-pg-", dir=self.parent))
        try:
            self._initdb(initdb, server_user)
            self._start(pg_ctl)
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self, initdb: str, server_user: str | None) -> None:
        assert self._root is not None
        if server_user is not None:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailableError("running as root and `runuser` is not on PATH")
            self._runas = [runuser, "-u", server_user, "--"]
            shutil.chown(self._root, user=server_user)
        password_file = self._root / "password"
        password_file.write_text(self.password)
        if server_user is not None:
            shutil.chown(password_file, user=server_user)
        self._run(
            initdb,
            "-D",
            str(self._root / "data"),
            "-U",
            self.user,
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        password_file.unlink()

    def _start(self, pg_ctl: str) -> None:
        assert self._root is not None
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            started = self._run(
                pg_ctl,
                "start",
                "-D",
                str(self._root / "data"),
                "-l",
                str(self._root / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"{SERVER_SETTINGS} -p {self.port} -c unix_socket_directories={self._root}",
                check=False,
            )
            if started.returncode == 0:
                return
            # Another process took the port between the probe and the start: try another.
        raise PostgresUnavailableError(f"PostgreSQL did not start: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        log = self._root / "server.log" if self._root else None
        if log is None or not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Stops the server (fast shutdown) and removes its folder; safe to call twice."""
        if self._root is None:
            return
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl is not None and (self._root / "data" / "postmaster.pid").exists():
            self._run(pg_ctl, "stop", "-D", str(self._root / "data"), "-m", "fast", check=False)
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Runs one statement as the superuser; returns its rows (none for commands)."""
        import psycopg2  # only callers that talk to the server need the driver

        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=database
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def create_database(self, name: str | None = None) -> str:
        """Creates a new, empty database (named `name` or at random); returns its name."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"')
        return name

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database for one test or module, dropped afterwards."""
        name = self.create_database()
        try:
            yield name
        finally:
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database`, the password escaped, the driver named."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"{DRIVER}://{credentials}@{self.host}:{self.port}/{database}"

    def postgres_db(self, database: str) -> dict[str, object]:
        """The `postgres_db` section of a dagster.yaml for `database` on this server."""
        return {
            "username": self.user,
            "password": self.password,
            "hostname": self.host,
            "port": self.port,
            "db_name": database,
        }

    def backends(self, database: str) -> set[int]:
        """The server processes serving a connection to `database` now."""
        rows = self.sql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'")
        return {pid for (pid,) in rows}

    def dagster_storage(self, database: str) -> dict[str, object]:
        """The `storage` section of a dagster.yaml for `database`, as deploy/dagster.yaml has it."""
        return pooled_storage({"postgres_db": self.postgres_db(database)})

    def env(self, database: str) -> dict[str, str]:
        """The DAGSTER_PG_* variables deploy/dagster.yaml reads, for `database`."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": database,
        }
