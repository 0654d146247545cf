"""Names one run worker process so that a later daemon can tell whether it still runs."""

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PID_TAG = "archiver/worker_pid"
STARTED_TAG = "archiver/worker_started"
HOST_TAG = "archiver/worker_host"


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when no such process runs.

    A zombie (exited, not yet reaped) counts as gone. The start time tells a reused pid apart.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else int(start_ticks)


@dataclass(frozen=True)
class WorkerProcess:
    """A run worker: its pid, its start time and the host it runs on."""

    pid: int
    started: int
    host: str

    @classmethod
    def of(cls, pid: int) -> "WorkerProcess | None":
        """The running process `pid` on this host, or None when it has already ended."""
        started = _start_ticks(pid)
        return None if started is None else cls(pid=pid, started=started, host=socket.gethostname())

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> "WorkerProcess | None":
        """The worker a run's tags name, or None for a run this launcher did not start."""
        if PID_TAG not in tags or STARTED_TAG not in tags or HOST_TAG not in tags:
            return None
        return cls(pid=int(tags[PID_TAG]), started=int(tags[STARTED_TAG]), host=tags[HOST_TAG])

    def tags(self) -> dict[str, str]:
        """The run tags that name this worker."""
        return {PID_TAG: str(self.pid), STARTED_TAG: str(self.started), HOST_TAG: self.host}

    @property
    def on_this_host(self) -> bool:
        """Whether this host can see the process (same host name)."""
        return self.host == socket.gethostname()

    def is_running(self) -> bool:
        """Whether the process still runs: same pid, same start time, not a zombie."""
        return _start_ticks(self.pid) == self.started

    def signal(self, signum: int) -> bool:
        """Sends `signum` if the process still runs; whether it was sent."""
        if not self.is_running():
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True
