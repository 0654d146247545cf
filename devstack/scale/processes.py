"""Resident memory and CPU of the daemon, the code server and the run workers, from procfs."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.bench.procfs import children_by_parent, cpu_seconds, descendants

# Run workers are the code server's `spawn` children (and their resource tracker), or, with
# `ForkedRunLauncher`, the children of the daemon's zygote.
RUN_WORKER_MARK = "multiprocessing"
ZYGOTE_MARK = "archiver_dagster.launcher.zygote"


def rss_bytes(pid: int) -> int:
    """VmRSS of a process in bytes, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def command_line(pid: int) -> str:
    """The command line of a process ('' if it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class MemoryPeaks:
    """Largest RSS seen per role; a role's RSS is the sum over its processes."""

    daemon: int = 0
    code_server: int = 0
    run_worker: int = 0  # the largest single run worker
    run_workers_total: int = 0  # all run workers at once
    postgres_connections: int = 0  # to the session's database, all processes at once
    samples: int = 0
    last: dict[str, int] = field(default_factory=dict)


class ServiceSampler:
    """Samples the RSS of the daemon's and the code server's process trees in a thread.

    With `connections` (PostgreSQL sessions: how many connections the database has now) it
    samples that count too.
    """

    def __init__(
        self,
        daemon_pid: int,
        code_server_pid: int,
        interval_s: float = 2.0,
        connections: Callable[[], int] | None = None,
    ) -> None:
        self.daemon_pid = daemon_pid
        self.code_server_pid = code_server_pid
        self.connections = connections
        self.interval_s = interval_s
        self.peaks = MemoryPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        """Takes one sample and updates the peaks."""
        children = children_by_parent()  # one scan of /proc for the whole sample
        # A forked run worker is a child of the daemon's zygote, with its own children (the
        # compute logs' `tail`); the zygote itself counts as the daemon's.
        zygote = zygote_of(self.daemon_pid, children)
        forked = [
            [pid, *descendants(pid, children)]
            for pid in (children.get(zygote, []) if zygote is not None else [])
        ]
        workers = [sum(rss_bytes(pid) for pid in tree) for tree in forked]
        in_workers = {pid for tree in forked for pid in tree}
        daemon = sum(
            rss_bytes(pid)
            for pid in [self.daemon_pid, *descendants(self.daemon_pid, children)]
            if pid not in in_workers
        )
        server = rss_bytes(self.code_server_pid)
        for pid in descendants(self.code_server_pid, children):
            if RUN_WORKER_MARK in command_line(pid):
                workers.append(rss_bytes(pid))
            else:
                server += rss_bytes(pid)
        peaks = self.peaks
        peaks.daemon = max(peaks.daemon, daemon)
        peaks.code_server = max(peaks.code_server, server)
        peaks.run_worker = max(peaks.run_worker, max(workers, default=0))
        peaks.run_workers_total = max(peaks.run_workers_total, sum(workers))
        if self.connections is not None:
            peaks.postgres_connections = max(peaks.postgres_connections, self.connections())
        peaks.samples += 1
        peaks.last = {"daemon": daemon, "code_server": server, "run_workers": sum(workers)}

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> "ServiceSampler":
        """Starts sampling."""
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops sampling."""
        self._stop.set()
        self._thread.join()


def zygote_of(daemon_pid: int, children: dict[int, list[int]] | None = None) -> int | None:
    """The daemon's `ForkedRunLauncher` zygote, if it has one: the daemon's child so named.

    Only the direct child counts: the zygote's forks share its command line.
    """
    if children is None:
        children = children_by_parent()
    for pid in children.get(daemon_pid, []):
        if ZYGOTE_MARK in command_line(pid):
            return pid
    return None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))
