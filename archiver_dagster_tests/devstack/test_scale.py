"""The scale benchmark's parts: plans, figures, instance settings, report, memory sampler."""

import math
import os
import signal
import subprocess
import sys

import yaml

from archiver_dagster.partitions import validate_pid
from archiver_dagster_tests.helpers import wait_until
from devstack.bench.procfs import descendants
from devstack.repository import REPOSITORY
from devstack.scale.plan import FULL, SHORT, filler_partitions, plan_jobs
from devstack.scale.processes import (
    ZYGOTE_MARK,
    MemoryPeaks,
    ServiceSampler,
    rss_bytes,
    zygote_of,
)
from devstack.scale.report import format_table, speedups, target_lines
from devstack.scale.session import SessionResult
from devstack.scale.stats import finished_in_window, per_minute, percentile, tick_figures
from devstack.scale.variants import (
    BASELINE,
    FORKED,
    TUNED,
    TUNED_FORKED,
    TUNED_FORKED_POOLED,
    instance_config,
)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
    assert percentile([7.0], 0.95) == 7.0
    assert math.isnan(percentile([], 0.95))


def test_tick_figures_count_ticks_over_ten_seconds():
    figures = tick_figures("scicat_jobs_sensor", [0.5, 12.0, 3.0, 10.0])

    assert (figures.ticks, figures.max_s, figures.over_10_s) == (4, 12.0, 1)
    assert math.isnan(tick_figures("idle", []).max_s)


def test_runs_per_minute_count_only_the_window():
    ends = [99.9, 100.0, 130.0, 159.9, 160.0]

    assert finished_in_window(ends, start=100.0, length_s=60.0) == 3
    assert per_minute(3, 60.0) == 3.0
    assert per_minute(10, 120.0) == 5.0


def test_job_plans_match_the_issue_and_every_pid_is_valid():
    for shape, big, small in ((FULL, 1000, 100), (SHORT, 200, 10)):
        plan = plan_jobs(shape, "t1")
        assert len(plan.big) == big
        assert [len(job) for job in plan.small] == [10] * small
        assert len(set(plan.pids)) == shape.datasets
    assert FULL.partitions == 50_000
    assert plan_jobs(SHORT, "a").pids[0] != plan_jobs(SHORT, "b").pids[0]
    validate_pid(plan_jobs(SHORT, "t1").pids[0])
    assert len(set(filler_partitions(5, "t1"))) == 5


def test_variants_set_the_run_queue_and_the_storage():
    base = {"concurrency": {"runs": {"max_concurrent_runs": 8}}, "sensors": {"use_threads": True}}

    sqlite = instance_config(base, BASELINE, None)
    postgres = instance_config(base, TUNED, "postgresql+psycopg2://postgres@127.0.0.1:1/d")

    assert sqlite["run_coordinator"]["config"]["dequeue_use_threads"] is False
    assert "storage" not in sqlite
    assert postgres["run_coordinator"]["config"]["dequeue_use_threads"] is True
    assert "num_submit_workers" not in postgres["sensors"]
    assert postgres["storage"]["postgres"]["postgres_url"].endswith("/d")
    assert postgres["concurrency"] == base["concurrency"]


def test_the_pooled_variant_is_the_production_storage_on_postgres_alone():
    deployed = yaml.safe_load((REPOSITORY / "deploy" / "dagster.yaml").read_text())
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/d"

    pooled = instance_config({}, TUNED_FORKED_POOLED, url)["storage"]["custom"]
    unpooled = instance_config({}, TUNED_FORKED, url)["storage"]

    assert {key: pooled[key] for key in ("module", "class")} == {
        key: deployed["storage"]["custom"][key] for key in ("module", "class")
    }
    assert pooled["config"] == {"postgres_url": url}
    assert list(unpooled) == ["postgres"]
    assert "storage" not in instance_config({}, TUNED_FORKED_POOLED, None)


def test_the_tuned_variant_is_the_production_instance_s_queue_and_sensors():
    deployed = yaml.safe_load((REPOSITORY / "deploy" / "dagster.yaml").read_text())

    tuned = instance_config({}, TUNED, None)

    queue = tuned["run_coordinator"]["config"]
    assert queue["dequeue_use_threads"] is deployed["run_queue"]["dequeue_use_threads"]
    assert queue["dequeue_num_workers"] == deployed["run_queue"]["dequeue_num_workers"]
    assert tuned["sensors"] == deployed["sensors"]


def test_only_the_forked_variant_forks_its_run_workers():
    base = {"run_launcher": {"module": "somewhere", "class": "Else"}}

    assert "run_launcher" not in instance_config(base, TUNED, None)
    forked = instance_config(base, FORKED, None)["run_launcher"]
    assert (forked["module"], forked["class"]) == (
        "archiver_dagster.launcher.forked",
        "ForkedRunLauncher",
    )
    assert (FORKED.coordinator, FORKED.sensors) == (BASELINE.coordinator, BASELINE.sensors)
    assert instance_config(base, TUNED_FORKED, None)["run_launcher"] == forked
    assert TUNED_FORKED.coordinator == TUNED.coordinator


def _result(variant: str, rate: float, queued_s: float | None) -> SessionResult:
    return SessionResult(
        backend="sqlite",
        variant=variant,
        datasets=300,
        big_job=200,
        small_jobs=10,
        partitions=5000,
        window_s=120.0,
        in_progress_s=12.0,
        queued_s=queued_s,
        queued=150,
        runs_per_minute=rate,
        ticks=[tick_figures("scicat_jobs_sensor", [1.0, 11.0])],
        memory=MemoryPeaks(daemon=200 << 20, code_server=300 << 20),
    )


def test_report_puts_sessions_side_by_side_and_judges_the_targets():
    results = [
        _result("baseline", 20.0, None),
        _result("tuned", 45.0, 100.0),
        _result("forked", 30.0, 100.0),
    ]

    table = format_table(results)
    targets = target_lines(results)

    assert table[0] == "| figure | sqlite, baseline | sqlite, tuned | sqlite, forked |"
    assert any("not yet: 150 of 200" in line and "100.0 s" in line for line in table)
    assert any("200 / 300 MiB" in line for line in table)
    assert speedups(results) == {("sqlite", "tuned"): 2.25, ("sqlite", "forked"): 1.5}
    assert "ticks <= 10 s MISSED (worst 11.0 s)" in targets[0]
    assert "all queued <= 300 s MISSED" in targets[0]
    assert "all queued <= 300 s met" in targets[1]
    assert targets[-2].endswith("tuned / baseline = 2.25 (target >= 2: met)")
    assert targets[-1].endswith("forked / baseline = 1.50 (target >= 2: MISSED)")


ZYGOTE_SCRIPT = """
import os, time
for _ in range(2):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
time.sleep(60)
"""


def test_the_sampler_counts_the_zygote_s_forks_as_run_workers():
    # This process plays the daemon: its child named like the zygote forks two "workers".
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE_SCRIPT, ZYGOTE_MARK])
    try:
        wait_until(lambda: len(descendants(zygote.pid)) == 2, 10.0, what="the two forks")
        workers = descendants(zygote.pid)
        sampler = ServiceSampler(os.getpid(), code_server_pid=-1)  # no code server

        sampler.sample()

        assert zygote_of(os.getpid()) == zygote.pid
        assert sampler.peaks.run_worker == max(rss_bytes(pid) for pid in workers) > 0
        assert sampler.peaks.last["run_workers"] == sum(rss_bytes(pid) for pid in workers)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        # This zygote never reaps them: they stay zombies, which hold no memory.
        wait_until(lambda: not any(map(rss_bytes, workers)), 10.0, what="the forks to end")
        sampler.sample()
        assert sampler.peaks.last["run_workers"] == 0
    finally:
        for pid in descendants(zygote.pid):
            os.kill(pid, signal.SIGKILL)
        zygote.kill()
        zygote.wait()


def test_the_sampler_keeps_the_peak_of_the_postgres_connections():
    counts = iter([3, 9, 4])
    sampler = ServiceSampler(os.getpid(), code_server_pid=-1, connections=lambda: next(counts))

    for _ in range(3):
        sampler.sample()

    assert sampler.peaks.postgres_connections == 9


def test_a_row_only_postgres_sessions_have_is_kept_in_the_table():
    sqlite = _result("baseline", 20.0, None)
    postgres = _result("baseline", 20.0, None)
    postgres.backend = "postgres"
    postgres.memory.postgres_connections = 27

    table = format_table([sqlite, postgres])

    row = next(line for line in table if "PostgreSQL connections" in line)
    assert row.endswith("|  | 27 |")
