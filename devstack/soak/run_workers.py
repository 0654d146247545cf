"""Killing a run worker: the process executing a STARTED run, as the OOM killer would.

Runs are executed by a process the code server starts for each run; Dagster records its pid
in the run's engine event "Started process for run (pid: N)". Only a process that descends
from the soak's own code server is ever signalled.
"""

import os
import random
import re
import signal
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

STARTED_PROCESS = re.compile(r"Started process for run \(pid: (\d+)\)")


def run_worker_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing `run_id`, from its engine events."""
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        found = (
            STARTED_PROCESS.search(entry.dagster_event.message or "")
            if entry.dagster_event
            else None
        )
        if found:
            return int(found.group(1))
    return None


def parent_pid(pid: int) -> int | None:
    """The parent of `pid` from /proc, or None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (2nd field) is in parentheses and may hold spaces
    return int(stat.rsplit(")", 1)[1].split()[1])


def descends_from(pid: int, ancestor: int) -> bool:
    """Whether `ancestor` is `pid`'s parent, grandparent, ..."""
    seen = 0
    current: int | None = pid
    while current is not None and current > 1 and seen < 64:
        current = parent_pid(current)
        if current == ancestor:
            return True
        seen += 1
    return False


def kill_a_run_worker(
    instance: DagsterInstance, code_server_pid: int, rng: random.Random
) -> tuple[str, int] | None:
    """SIGKILLs the worker of one STARTED run (chosen with `rng`); (run id, pid) or None."""
    records = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    candidates = []
    for record in records:
        pid = run_worker_pid(instance, record.dagster_run.run_id)
        if pid is not None and descends_from(pid, code_server_pid):
            candidates.append((record.dagster_run.run_id, pid))
    if not candidates:
        return None
    run_id, pid = rng.choice(sorted(candidates))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None  # it ended meanwhile
    return run_id, pid
