"""A run worker is named by pid, start time and host, so a reused pid is never taken for it."""

import os
import signal
import socket
import subprocess
import sys

from archiver_dagster.launcher.worker_process import HOST_TAG, PID_TAG, WorkerProcess
from archiver_dagster_tests.helpers import wait_until


def test_a_running_process_is_running_and_its_tags_name_it_again():
    worker = WorkerProcess.of(os.getpid())

    assert worker is not None and worker.on_this_host and worker.is_running()
    assert WorkerProcess.from_tags(worker.tags()) == worker
    assert worker.tags()[HOST_TAG] == socket.gethostname()


def test_a_reused_pid_is_not_the_worker():
    worker = WorkerProcess.of(os.getpid())
    assert worker is not None

    impostor = WorkerProcess(pid=worker.pid, started=worker.started + 1, host=worker.host)

    assert not impostor.is_running()
    assert not impostor.signal(signal.SIGTERM)  # never signals a process it does not name


def test_an_exited_process_is_gone_even_before_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = WorkerProcess.of(child.pid)
    assert worker is not None and worker.is_running()

    assert worker.signal(signal.SIGKILL)
    wait_until(lambda: not worker.is_running(), 10.0, what="the zombie to count as gone")

    assert child.wait(timeout=10) == -signal.SIGKILL
    assert WorkerProcess.of(child.pid) is None
    assert not worker.signal(signal.SIGTERM)


def test_runs_without_all_three_tags_name_no_worker():
    tags = WorkerProcess(pid=1, started=2, host="h").tags()

    assert WorkerProcess.from_tags({}) is None
    assert WorkerProcess.from_tags({k: v for k, v in tags.items() if k != PID_TAG}) is None
    assert not WorkerProcess(pid=1, started=2, host="elsewhere.invalid").on_this_host
