"""The one zygote process a Python process keeps per list of preload modules.

Dagster creates an instance's run launcher lazily, without a lock: when the run queue's dequeue
threads launch their first runs at once, each may build a `ForkedRunLauncher` of its own. With
a zygote per launcher the daemon then kept four zygotes of ~140 MiB, three of them idle after
their first fork. The zygote therefore belongs to the process, shared by every launcher with
the same preload modules, and so does the lock that keeps its requests and answers in order.
"""

import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import ClassVar


class ZygoteProcess:
    """A `python -m archiver_dagster.launcher.zygote` child, started on first use."""

    _shared: ClassVar[dict[tuple[str, ...], "ZygoteProcess"]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, preload_modules: tuple[str, ...]) -> None:
        self.preload_modules = preload_modules
        self.lock = threading.Lock()  # one request and its answer at a time
        self._process: subprocess.Popen[str] | None = None

    @classmethod
    def of(cls, preload_modules: Sequence[str]) -> "ZygoteProcess":
        """This process's zygote for `preload_modules`, the same for every caller."""
        key = tuple(preload_modules)
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(key)
            return cls._shared[key]

    def running(self) -> "subprocess.Popen[str]":
        """The zygote process, started when there is none or it has exited; hold `lock`."""
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "archiver_dagster.launcher.zygote", *self.preload_modules],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,  # a Ctrl-C to the daemon's group never reaches runs
            )
        return self._process

    def exit_code(self) -> int | None:
        """The zygote's exit code once it has exited (waiting for it), else None."""
        return self._process.wait() if self._process is not None else None

    def stop(self) -> None:
        """Closes the zygote's stdin, which ends it, and reaps it; hold `lock`."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
