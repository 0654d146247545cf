"""One scale session: a fresh instance on one backend and variant, the jobs, the figures."""

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterInstance

from archiver_dagster.partitions import DATASETS
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from devstack.bench.procfs import cpu_seconds, find_descendant
from devstack.demo import open_instance, prepare_dagster_home
from devstack.postgres import PostgresServer
from devstack.repository import python_path_env
from devstack.scale.instance_figures import run_times, runs_of_job, sensor_ticks
from devstack.scale.machine import busy_seconds
from devstack.scale.plan import ScaleShape, filler_partitions, plan_jobs
from devstack.scale.processes import MemoryPeaks, ServiceSampler, tree_cpu_seconds, zygote_of
from devstack.scale.seeding import seed_tiny_datasets
from devstack.scale.stats import TickFigures, finished_in_window, per_minute
from devstack.scale.variants import Variant, write_instance_yaml
from devstack.services import DagsterServices
from devstack.soak.datasets import submit_job
from devstack.stack import LocalStack

SESSION_ENV = {"ARCHIVER_SENSOR_INTERVAL_S": "5"}
PARTITION_CHUNK = 5_000
POLL_S = 0.5
COUNT_EVERY_S = 2.0
READY_TIMEOUT_S = 180.0
NOT_SUBMITTED = {"jobSubmitted", None}


@dataclass
class SessionResult:
    """The figures of one session."""

    backend: str
    variant: str
    datasets: int
    big_job: int
    small_jobs: int
    partitions: int
    window_s: float
    seed_s: float = 0.0
    partitions_s: float = 0.0
    ready_s: float = 0.0  # services started until the sensors ticked
    in_progress_s: float | None = None
    queued_s: float | None = None  # submission until every run of the large job existed
    queued: int = 0
    succeeded_in_window: int = 0
    failed_in_window: int = 0
    runs_per_minute: float = 0.0
    ticks: list[TickFigures] = field(default_factory=list)
    memory: MemoryPeaks = field(default_factory=MemoryPeaks)
    cpu_s: dict[str, float] = field(default_factory=dict)  # per role, over the window
    busy_cores: float = 0.0  # of the machine (everyone's), over the window
    load_average: float = 0.0  # 1-minute, at the end of the window


class ScaleSession:
    """Runs one backend x variant on a running local stack; `run()` returns its figures."""

    def __init__(
        self,
        stack: LocalStack,
        shape: ScaleShape,
        variant: Variant,
        root: Path,
        postgres: PostgresServer | None,
        say: Callable[[str], None],
    ) -> None:
        self.stack = stack
        self.shape = shape
        self.variant = variant
        self.backend = "postgres" if postgres else "sqlite"
        self.root = root / f"{self.backend}-{variant.name}"
        self.postgres = postgres
        self.say = say
        self.tag = f"{self.backend[:2]}{variant.name[0]}{uuid.uuid4().hex[:6]}"
        self.job_ids: list[str] = []
        self.database = ""  # PostgreSQL: the session's database
        self.result = SessionResult(
            backend=self.backend,
            variant=variant.name,
            datasets=shape.datasets,
            big_job=shape.big_job,
            small_jobs=shape.small_jobs,
            partitions=shape.partitions,
            window_s=shape.window_s,
        )

    def run(self) -> SessionResult:
        """Prepares the instance and data, runs the services over the window, then measures."""
        shutil.rmtree(self.root, ignore_errors=True)
        home = prepare_dagster_home(self.root / "dagster_home")
        url = None
        if self.postgres is not None:
            self.database = self.postgres.create_database(f"dagster_{self.tag}")
            url = self.postgres.url(self.database)
        write_instance_yaml(home / "dagster.yaml", self.variant, url)
        env = python_path_env({**os.environ, **self.stack.env(), **SESSION_ENV})
        env["DAGSTER_HOME"] = str(home)
        plan = plan_jobs(self.shape, self.tag)
        started = time.monotonic()
        seed_tiny_datasets(self.stack.scicat.url, self.stack.s3.client(), plan.pids)
        self.result.seed_s = time.monotonic() - started
        self._prepare_instance(home, env)
        self.say(
            f"[{self.backend}/{self.variant.name}] seeded {len(plan.pids)} datasets in "
            f"{self.result.seed_s:.0f} s, {self.shape.partitions} partitions added in "
            f"{self.result.partitions_s:.0f} s; starting the code server and daemon"
        )
        with DagsterServices(home, env) as services:
            self._drive(home, services, plan.big, plan.small)
        with open_instance(home) as instance:
            self._collect(instance)
        return self.result

    def _prepare_instance(self, home: Path, env: dict[str, str]) -> None:
        started = time.monotonic()
        with open_instance(home) as instance:
            apply_pool_limits(instance, configured_pool_limits(env))
            keys = filler_partitions(self.shape.partitions, self.tag)
            for start in range(0, len(keys), PARTITION_CHUNK):
                chunk = keys[start : start + PARTITION_CHUNK]
                instance.add_dynamic_partitions(DATASETS, chunk)
        self.result.partitions_s = time.monotonic() - started

    def _wait_until_ready(self, instance: DagsterInstance, started: float) -> None:
        """Waits until the daemon has ticked every sensor once (the code server is loaded)."""
        while time.monotonic() - started < READY_TIMEOUT_S:
            ticks = sensor_ticks(instance, after=0.0)
            if ticks and all(figures.ticks > 0 for figures in ticks):
                return
            time.sleep(1.0)
        raise TimeoutError(f"the sensors did not tick within {READY_TIMEOUT_S:.0f} s")

    def _drive(
        self, home: Path, services: DagsterServices, big: list[str], small: list[list[str]]
    ) -> None:
        shape, result = self.shape, self.result
        started = time.monotonic()
        with open_instance(home) as instance:
            self._wait_until_ready(instance, started)
            result.ready_s = time.monotonic() - started
            daemon_pid = find_descendant(os.getpid(), "dagster-daemon", "run") or 0
            sampler = ServiceSampler(
                daemon_pid, services.code_server_pid or 0, connections=self._connections()
            ).start()
            self.submitted_at = time.time()
            t0 = time.monotonic()
            big_id = submit_job(self.stack.scicat, big, 3)
            self.job_ids = [big_id, *(submit_job(self.stack.scicat, pids, 3) for pids in small)]
            self.big_id = big_id
            self.say(f"[{self.backend}/{self.variant.name}] submitted 1 + {len(small)} jobs")
            window_end = shape.warmup_s + shape.window_s
            cpu_start: dict[str, float] = {}
            next_count = 0.0
            while True:
                elapsed = time.monotonic() - t0
                if result.in_progress_s is None:
                    job = self.stack.scicat.job(big_id) or {}
                    if job.get("statusCode") not in NOT_SUBMITTED:
                        result.in_progress_s = elapsed
                if result.queued_s is None and elapsed >= next_count:
                    result.queued = runs_of_job(instance, big_id)
                    if result.queued >= len(big):
                        result.queued_s = elapsed
                    next_count = elapsed + COUNT_EVERY_S
                if not cpu_start and elapsed >= shape.warmup_s:
                    cpu_start = self._cpu(daemon_pid, services.code_server_pid or 0)
                if elapsed >= window_end and (
                    result.queued_s is not None or elapsed >= shape.queue_deadline_s
                ):
                    break
                time.sleep(POLL_S)
            cpu_end = self._cpu(daemon_pid, services.code_server_pid or 0)
            result.cpu_s = {role: cpu_end[role] - cpu_start[role] for role in cpu_end}
            result.busy_cores = result.cpu_s.pop("machine") / (
                time.monotonic() - t0 - shape.warmup_s
            )
            result.load_average = os.getloadavg()[0]
            sampler.stop()
            result.memory = sampler.peaks
            if result.queued_s is None:
                result.queued = runs_of_job(instance, big_id)
        self._close_open_jobs()
        self.say(f"[{self.backend}/{self.variant.name}] window over; stopping the services")

    def _close_open_jobs(self) -> None:
        """Ends the session's unfinished jobs in SciCat, so the next session sees only its own.

        The stack's SciCat outlives the session; a job left `jobSubmitted` or `inProgress`
        would be taken up by the next session's fresh instance and compete with its jobs.
        """
        for job_id in self.job_ids:
            job = self.stack.scicat.job(job_id) or {}
            if not str(job.get("statusCode", "")).startswith("finished"):
                self.stack.scicat.set_job_status(
                    job_id, "finishedUnsuccessful", "the benchmark session ended"
                )

    def _connections(self) -> Callable[[], int] | None:
        """How to count the connections to the session's database (PostgreSQL only)."""
        server = self.postgres
        if server is None:
            return None
        return lambda: len(server.backends(self.database))

    @staticmethod
    def _cpu(daemon_pid: int, code_server_pid: int) -> dict[str, float]:
        # Forked run workers are the daemon's zygote's children: they count as runs.
        zygote = zygote_of(daemon_pid)
        forked_runs = tree_cpu_seconds(zygote) if zygote is not None else 0.0
        return {
            "daemon": tree_cpu_seconds(daemon_pid) - forked_runs,
            "code_server_and_runs": tree_cpu_seconds(code_server_pid) + forked_runs,
            "bench_and_scicat": cpu_seconds("self"),
            "machine": busy_seconds(),
        }

    def _collect(self, instance: DagsterInstance) -> None:
        result, shape = self.result, self.shape
        result.ticks = sensor_ticks(instance, after=0.0)
        times = run_times(instance, self.big_id)
        start = self.submitted_at + shape.warmup_s
        result.succeeded_in_window = finished_in_window(times.succeeded, start, shape.window_s)
        result.failed_in_window = finished_in_window(times.failed, start, shape.window_s)
        result.runs_per_minute = per_minute(
            result.succeeded_in_window + result.failed_in_window, shape.window_s
        )
