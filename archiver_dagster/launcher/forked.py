"""`ForkedRunLauncher`: each run in a process forked from one that has the code imported.

Dagster's default launcher asks the code server to start each run in a new interpreter, which
imports Dagster and the code location again: 2.7 of the ~4.5 CPU-seconds a tiny dataset's run
costs (docs/performance.md, "Where a tiny run's time goes"). This launcher keeps one zygote
process (`archiver_dagster.launcher.zygote`) with the code location imported and forks every
run worker from it. It runs where the daemon runs, which must have the code location installed
(the archiver's image and the local stack do). Decision 64 in docs/architecture.md.
"""

import json
import selectors
import signal
from collections.abc import Mapping, Sequence
from typing import IO, Any, Self

from dagster import Array, Field, IntSource
from dagster import _check as check
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import (
    CheckRunHealthResult,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from dagster._core.storage.dagster_run import DagsterRun
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClass, ConfigurableClassData, serialize_value

from archiver_dagster.launcher.worker_process import WorkerProcess
from archiver_dagster.launcher.zygote_process import ZygoteProcess

DEFAULT_PRELOAD_MODULES = ("archiver_dagster.preload",)
DEFAULT_START_TIMEOUT_S = 300


class ForkedRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a worker forked from a zygote that has the code location imported."""

    def __init__(
        self,
        preload_modules: Sequence[str] = DEFAULT_PRELOAD_MODULES,
        start_timeout_s: int = DEFAULT_START_TIMEOUT_S,
        inst_data: ConfigurableClassData | None = None,
    ) -> None:
        self._preload_modules = list(preload_modules)
        self._start_timeout_s = start_timeout_s
        self._inst_data = inst_data
        # Shared with every launcher of this process that preloads the same modules.
        self._zygote = ZygoteProcess.of(self._preload_modules)
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        """The instance config this launcher was built from."""
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        """`preload_modules` the zygote imports; `start_timeout_s` for its first answer."""
        return {
            "preload_modules": Field(
                Array(str), is_required=False, default_value=list(DEFAULT_PRELOAD_MODULES)
            ),
            "start_timeout_s": Field(
                IntSource, is_required=False, default_value=DEFAULT_START_TIMEOUT_S
            ),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> Self:
        """Builds the launcher from its `run_launcher: config:` block."""
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, context: LaunchRunContext) -> None:
        """Forks the run's worker and tags the run with it, for health checks and termination."""
        run = context.dagster_run
        args = ExecuteRunArgs(
            job_origin=check.not_none(context.job_code_origin),
            run_id=run.run_id,
            instance_ref=self._instance.get_ref(),
        )
        pid = self._fork(serialize_value(args))
        worker = WorkerProcess.of(pid)
        if worker is not None:
            self._instance.add_run_tags(run.run_id, worker.tags())
        self._instance.report_engine_event(
            f"Forked the run worker, pid {pid}.", run, cls=self.__class__
        )

    def terminate(self, run_id: str) -> bool:
        """Marks the run canceling and sends its worker SIGTERM, which cancels the run."""
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        worker = WorkerProcess.from_tags(run.tags)
        if worker is None or not worker.on_this_host or not worker.signal(signal.SIGTERM):
            self._instance.report_engine_event(
                "The run worker was not found to send the termination request to.",
                run,
                cls=self.__class__,
            )
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        """Run monitoring may ask whether a run's worker still runs."""
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the tagged worker process runs; FAILED once it has gone."""
        worker = WorkerProcess.from_tags(run.tags)
        if worker is None:
            return CheckRunHealthResult(WorkerStatus.NOT_FOUND, msg="The run has no worker tags.")
        if not worker.on_this_host:
            return CheckRunHealthResult(
                WorkerStatus.NOT_FOUND, msg=f"The run worker ran on another host, {worker.host}."
            )
        if worker.is_running():
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            msg=f"The run worker, pid {worker.pid}, has ended without finishing the run.",
        )

    def dispose(self) -> None:
        """Stops the zygote (the next launch starts one again); the workers it forked run on."""
        with self._zygote.lock:
            self._zygote.stop()

    def _fork(self, execute_run_args: str) -> int:
        """Asks the zygote, started if need be, to fork a worker; its pid."""
        with self._zygote.lock:
            process = self._zygote.running()
            stdin, stdout = check.not_none(process.stdin), check.not_none(process.stdout)
            try:
                stdin.write(json.dumps({"execute_run_args": execute_run_args}) + "\n")
                stdin.flush()
                answer = self._read_answer(stdout)
            except (OSError, EOFError, ValueError, TimeoutError) as error:
                # Not retried: a request the zygote may have acted on must not fork twice.
                self._zygote.stop()
                raise DagsterLaunchFailedError(f"The run worker zygote failed: {error}") from error
            return int(answer["pid"])

    def _read_answer(self, stdout: IO[str]) -> dict[str, Any]:
        """The zygote's next answer line, waiting at most `start_timeout_s`."""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            if not selector.select(timeout=self._start_timeout_s):
                raise TimeoutError(f"no answer within {self._start_timeout_s} s")
        line = stdout.readline()
        if not line:
            raise EOFError(f"it exited with code {self._zygote.exit_code()}")
        return json.loads(line)
