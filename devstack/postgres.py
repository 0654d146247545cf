"""A throwaway PostgreSQL cluster on 127.0.0.1 for benchmarks and tests (trust auth, no TLS).

`initdb` and `pg_ctl` must be on PATH. The server refuses to run as root, so as root the
cluster belongs to an unprivileged system user (created if absent) and its commands run
through `runuser`. Everything lives in one temporary folder that `stop()` removes.

    with PostgresServer() as server:
        server.create_database("dagster")
        url = server.url("dagster")  # postgresql+psycopg2://postgres@127.0.0.1:PORT/dagster
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from devstack.lifecycle import StartStop
from devstack.s3_server import free_port

DEFAULT_OS_USER = "archiverpg"
SUPERUSER = "postgres"
# SQLAlchemy 2.0 maps `postgresql://` to psycopg2 and 2.1 to psycopg 3; dagster-postgres brings
# psycopg2, so the driver is named explicitly.
DRIVER = "postgresql+psycopg2"


def ensure_os_user(name: str) -> None:
    """Creates the unprivileged system user `name` unless it exists (needs root)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


class PostgresServer(StartStop):
    """One PostgreSQL cluster in a temporary folder, listening on 127.0.0.1:`port`."""

    def __init__(
        self,
        parent: Path | None = None,
        port: int = 0,
        os_user: str = DEFAULT_OS_USER,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.parent = parent
        self.port = port
        self.os_user = os_user if os.geteuid() == 0 else None
        self.settings = {"max_connections": "200", **(settings or {})}
        self.folder: Path | None = None

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (exists once started)."""
        if self.folder is None:
            raise RuntimeError("the PostgreSQL server is not started")
        return self.folder / "data"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", self.os_user, "--", *args] if self.os_user else args
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stderr or result.stdout}")
        return result

    def start(self) -> "PostgresServer":
        """Runs initdb and starts the server; waits until it accepts connections."""
        if self.parent is not None:
            self.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="postgres-", dir=self.parent))
        try:
            if self.os_user:
                ensure_os_user(self.os_user)
                shutil.chown(self.folder, user=self.os_user)
            self.port = self.port or free_port()
            self._run(
                ["initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
            )
            options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}"
            options += "".join(f" -c {key}={value}" for key, value in self.settings.items())
            log = self.folder / "server.log"
            start = ["pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(log)]
            self._run([*start, "-w", "start"])
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` as the superuser (trust auth: no password)."""
        return f"{DRIVER}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Creates the database `name` (dropping an existing one); returns its URL."""
        import psycopg2  # only callers that create a database need the driver

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def stop(self) -> None:
        """Stops the server (fast shutdown) and removes its folder; safe to call twice."""
        if self.folder is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            # A server already gone fails `pg_ctl stop`; the folder is removed all the same.
            with contextlib.suppress(RuntimeError):
                self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
