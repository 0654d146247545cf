"""One soak: the stack, the Dagster services, the jobs, the faults, then the invariants."""

import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dagster import RunsFilter

from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from archiver_dagster.tags import PARTITION_TAG
from devstack.demo import open_instance, prepare_dagster_home
from devstack.seed import SciCatSeeder
from devstack.services import DagsterServices
from devstack.soak.datasets import (
    SoakDataset,
    plan_datasets,
    seed_datasets,
    split_into_jobs,
    submit_job,
)
from devstack.soak.fault_plan import FaultKind, FaultProfile, plan_for
from devstack.soak.faults import FaultRunner, FaultTargets
from devstack.soak.invariants import FINAL_JOB_STATES, check_all
from devstack.soak.lts_fill import FillableLTS
from devstack.soak.observe import job_states, observe_dataset
from devstack.soak.report import SoakReport, outcomes
from devstack.soak.s3_proxy import FaultyProxy
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack

# A killed run worker must give its pool slots back (free_slots_after_run_end_seconds) and a run
# stuck in STARTING must fail; the soak wants both within seconds, not the production 30 s.
QUICK_MONITORING_S = 5
RUN_MONITORING = """
# added by the soak: run workers are killed on purpose
run_monitoring:
  enabled: true
  start_timeout_seconds: 60
  cancel_timeout_seconds: 60
  poll_interval_seconds: 5
  free_slots_after_run_end_seconds: 5
"""
# Settings of the archiver under soak, on top of the local stack's.
SOAK_ENV = {
    "ARCHIVER_SENSOR_INTERVAL_S": "1",
    "ARCHIVER_RETRY_FIRST_S": "2",  # failed cleanups retried after 2, 4, 8 ... s
    "ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S": "10",
}
POLL_S = 2.0
SUBMIT_SHARE = 0.85  # the last job is submitted at this share of the fault period
LTS_HEADROOM = 48 * 1024 * 1024


@dataclass(frozen=True)
class SoakConfig:
    """What to run: datasets, jobs, fault plan, bounds."""

    root: Path
    datasets: int
    jobs: int
    seed: int
    duration_s: float  # faults are injected during this many seconds after the first job
    timeout_s: float  # longest wait for the jobs after the faults ended
    fault_counts: dict[FaultKind, int]  # of the mixed profile
    jobs_api: str = "v3"
    profile: FaultProfile = FaultProfile.MIXED


def enable_run_monitoring(dagster_yaml: Path) -> bool:
    """Run monitoring that polls and frees slots every 5 s (added if absent); whether it changed.

    The repository's dagster.yaml has run monitoring at production intervals (30 s); the soak
    shortens them so that a killed worker's slots come back within its fault windows.
    """
    text = dagster_yaml.read_text()
    if not re.search(r"^run_monitoring:", text, flags=re.MULTILINE):
        dagster_yaml.write_text(text.rstrip("\n") + "\n" + RUN_MONITORING)
        return True
    quick = re.sub(
        r"^(\s+(?:poll_interval_seconds|free_slots_after_run_end_seconds):\s*)\d+",
        lambda match: f"{match.group(1)}{QUICK_MONITORING_S}",
        text,
        flags=re.MULTILINE,
    )
    dagster_yaml.write_text(quick)
    return quick != text


class Soak:
    """Runs one soak under `config.root` (emptied first) and returns its report."""

    def __init__(self, config: SoakConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.say = say
        self.plans: list[SoakDataset] = plan_datasets(config.datasets, config.seed)
        self.report = SoakReport.start(config, self.plans)
        self.job_ids: list[str] = []
        self.killed_pids: set[str] = set()  # datasets whose run worker a fault killed
        self._t0 = 0.0

    def run(self) -> SoakReport:
        """The whole soak; the tmpfs LTS is unmounted whatever happens."""
        started = time.monotonic()
        root = self.config.root
        shutil.rmtree(root, ignore_errors=True)
        home = prepare_dagster_home(root / "dagster_home")
        self.report.run_monitoring_added = enable_run_monitoring(home / "dagster.yaml")
        stack = LocalStack(root / "stack", jobs_api_prefix=f"/api/{self.config.jobs_api}")
        size = sum(plan.size for plan in self.plans) * 11 // 10 + LTS_HEADROOM
        lts = FillableLTS(stack.lts_root, size)
        unavailable = lts.mount()
        self.report.lts = unavailable or f"tmpfs of {size // (1 << 20)} MiB"
        try:
            with stack:
                self._with_stack(stack, home, lts if unavailable is None else None, unavailable)
        finally:
            lts.unmount()
        self.report.wall_s = time.monotonic() - started
        return self.report

    def _with_stack(
        self, stack: LocalStack, home: Path, lts: FillableLTS | None, unavailable: str | None
    ) -> None:
        host, port = stack.s3.host, stack.s3.port
        with FaultyProxy((host, port), seed=self.config.seed) as proxy:
            seeder = SciCatSeeder(stack.scicat.url, SCICAT_USER, SCICAT_PASSWORD)
            self.report.bytes_seeded = seed_datasets(seeder, stack.s3.client(), self.plans)
            self.say(f"seeded {len(self.plans)} datasets, {self.report.bytes_seeded} bytes")
            env = {**os.environ, **stack.env(), **SOAK_ENV, "S3_ENDPOINT": proxy.url}
            env["DAGSTER_HOME"] = str(home)
            with open_instance(home) as instance:
                apply_pool_limits(instance, configured_pool_limits(env))
            self.say("starting the Dagster code server and daemon ...")
            with DagsterServices(home, env) as services:
                targets = FaultTargets(stack.scicat, proxy, services, home, lts, unavailable or "")
                self._drive(stack, targets)
            self.report.proxy = proxy.counts()
            checks_started = time.monotonic()
            seen = [observe_dataset(stack.scicat, stack.s3.client(), p.pid) for p in self.plans]
            states = job_states(stack.scicat, self.job_ids)
            self.report.invariants = check_all(
                states, seen, self.plans, stack.lts_root, stack.scratch_root
            )
            self.report.outcomes = outcomes(seen, self.plans, states, self.killed_pids)
            self.report.checks_s = time.monotonic() - checks_started

    def _drive(self, stack: LocalStack, targets: FaultTargets) -> None:
        """Submits the jobs over time while the faults run, then waits for every job to end."""
        config = self.config
        plan = plan_for(config.profile, config.duration_s, config.seed, config.fault_counts)
        runner = FaultRunner(targets, plan, config.seed, self.say)
        batches = split_into_jobs(self.plans, config.jobs)
        total = len(batches)
        spacing = SUBMIT_SHARE * config.duration_s / max(len(batches) - 1, 1)
        self._t0 = time.monotonic()
        runner.start(self._t0)
        shown = ""
        deadline = self._t0 + config.duration_s + config.timeout_s
        try:
            while time.monotonic() < deadline:
                while batches and self._elapsed() >= len(self.job_ids) * spacing:
                    version: Literal[3, 4] = 3 if len(self.job_ids) % 2 == 0 else 4
                    job_id = submit_job(stack.scicat, batches.pop(0), version)
                    self.job_ids.append(job_id)
                    self.say(f"[{self._elapsed():6.1f} s] job {job_id} submitted (v{version} body)")
                states = job_states(stack.scicat, self.job_ids)
                final = sum(1 for state in states.values() if state in FINAL_JOB_STATES)
                line = f"jobs {final}/{total} final; runs: {self._run_counts(targets.home)}"
                if line != shown:
                    self.say(f"[{self._elapsed():6.1f} s] {line}")
                    shown = line
                if not batches and final == len(self.job_ids) and runner.done():
                    break
                if runner.done():
                    stack.scicat.clear_requests()  # nothing counts them any more
                time.sleep(POLL_S)
            else:
                self.report.timed_out = True
                self.say(f"[{self._elapsed():6.1f} s] gave up waiting for the jobs")
        finally:
            runner.stop()
            self.report.faults = list(runner.tallies.values())
            self.report.drive_s = self._elapsed()
            self.report.runs = self._run_counts(targets.home)
            self.killed_pids = self._partitions_of(targets.home, runner.killed_runs)

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0

    @staticmethod
    def _partitions_of(home: Path, run_ids: list[str]) -> set[str]:
        with open_instance(home) as instance:
            runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
        return {run.tags[PARTITION_TAG] for run in runs if run and PARTITION_TAG in run.tags}

    @staticmethod
    def _run_counts(home: Path) -> str:
        with open_instance(home) as instance:
            runs = instance.get_runs(filters=RunsFilter())
        counts = Counter(run.status.value.lower() for run in runs)
        return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
