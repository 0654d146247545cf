"""Dagster's own services for the local stack: a code-location server and the daemon.

The code server runs in its own process group, as in production, so the daemon can be stopped
and started again while runs it launched go on (they are children of the code server).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.lifecycle import StartStop
from devstack.s3_server import free_port, wait_for_port

CODE_LOCATION = "archiver_dagster"


def stop_process_group(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGTERM to the process's group, then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class DagsterServices(StartStop):
    """`dagster code-server` + `dagster-daemon run` with their own DAGSTER_HOME, on 127.0.0.1."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = {**env, "DAGSTER_HOME": str(home)}
        self.port = free_port()
        self.logs = home / "logs"
        self.workspace = home / "workspace.yaml"
        self._code_server: subprocess.Popen[bytes] | None = None
        self._daemon: subprocess.Popen[bytes] | None = None

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start(self) -> "DagsterServices":
        """Starts the code server, waits until it serves, then starts the daemon."""
        self.workspace.write_text(
            "load_from:\n  - grpc_server:\n"
            f"      host: 127.0.0.1\n      port: {self.port}\n"
            f"      location_name: {CODE_LOCATION}\n"
        )
        bin_dir = Path(sys.executable).parent
        self._code_server = self._spawn(
            "code-server",
            [
                str(bin_dir / "dagster"),
                "code-server",
                "start",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                "archiver_dagster.definitions",
            ],
        )
        try:
            wait_for_port("127.0.0.1", self.port, 120.0, self._code_server)
        except BaseException:
            self.stop()
            raise
        self.start_daemon()
        return self

    def start_daemon(self) -> None:
        """Starts `dagster-daemon run` (sensors, run queue) against the code server."""
        bin_dir = Path(sys.executable).parent
        self._daemon = self._spawn(
            "daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", str(self.workspace)]
        )

    def stop_daemon(self) -> None:
        """Stops the daemon; runs already launched go on in the code server's processes."""
        if self._daemon is not None:
            stop_process_group(self._daemon)
            self._daemon = None

    def restart_daemon(self, pause_s: float = 0.0) -> None:
        """Stops the daemon and, after `pause_s`, starts it again; runs go on meanwhile."""
        self.stop_daemon()
        time.sleep(pause_s)
        self.start_daemon()

    @property
    def code_server_pid(self) -> int | None:
        """Process id of the code server (the parent of every run worker), if it runs."""
        return self._code_server.pid if self._code_server is not None else None

    def stop(self) -> None:
        """Stops the daemon and the code server (and the runs it still hosts)."""
        self.stop_daemon()
        if self._code_server is not None:
            stop_process_group(self._code_server)
            self._code_server = None
