"""The figures of a scale run as a Markdown table (sessions side by side) and the targets."""

import dataclasses
import json
import math
from collections.abc import Callable

from devstack.scale.session import SessionResult

MIB = 1 << 20
TICK_TARGET_S = 10.0
IN_PROGRESS_TARGET_S = 60.0
QUEUED_TARGET_S = 300.0
SPEEDUP_TARGET = 2.0


def seconds(value: float | None) -> str:
    """'12.3 s', or '—' for a figure never reached."""
    return "—" if value is None or math.isnan(value) else f"{value:.1f} s"


def _rows(result: SessionResult) -> dict[str, str]:
    rows = {
        "datasets / jobs / partitions": (
            f"{result.datasets} / 1 x {result.big_job} + {result.small_jobs} x "
            f"{(result.datasets - result.big_job) // max(result.small_jobs, 1)} / "
            f"{result.partitions}"
        ),
        "seeding, partitions added": f"{result.seed_s:.0f} s, {result.partitions_s:.0f} s",
        "large job `inProgress` after": seconds(result.in_progress_s),
        "large job all runs queued after": (
            seconds(result.queued_s)
            if result.queued_s is not None
            else f"not yet: {result.queued} of {result.big_job}"
        ),
        f"runs finished per minute ({result.window_s:.0f} s window)": (
            f"**{result.runs_per_minute:.1f}** ({result.succeeded_in_window} ok, "
            f"{result.failed_in_window} failed)"
        ),
    }
    for tick in result.ticks:
        rows[f"`{tick.sensor}` tick max / p95 / median"] = (
            f"{tick.max_s:.1f} / {tick.p95_s:.1f} / {tick.median_s:.1f} s ({tick.ticks} ticks, "
            f"{tick.over_10_s} over 10 s)"
        )
    memory = result.memory
    rows["peak RSS daemon / code server"] = (
        f"{memory.daemon / MIB:.0f} / {memory.code_server / MIB:.0f} MiB"
    )
    rows["peak RSS one run worker / all at once"] = (
        f"{memory.run_worker / MIB:.0f} / {memory.run_workers_total / MIB:.0f} MiB"
    )
    if result.backend == "postgres":
        rows["peak PostgreSQL connections (sampled every 2 s)"] = str(memory.postgres_connections)
    cpu_row = "CPU s, window start to end: daemon / code server + runs / bench + SciCat"
    rows[cpu_row] = " / ".join(
        f"{result.cpu_s.get(role, math.nan):.0f}"
        for role in ("daemon", "code_server_and_runs", "bench_and_scicat")
    )
    rows["machine busy cores (everyone), load avg"] = (
        f"{result.busy_cores:.2f} of 2, {result.load_average:.1f}"
    )
    return rows


def format_table(results: list[SessionResult]) -> list[str]:
    """One Markdown table: a column per session."""
    columns = [_rows(result) for result in results]
    header = ["figure", *(f"{r.backend}, {r.variant}" for r in results)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    names = list(dict.fromkeys(name for column in columns for name in column))
    for name in names:  # rows some sessions lack (PostgreSQL's) stay, blank for the others
        lines.append("| " + " | ".join([name, *(col.get(name, "") for col in columns)]) + " |")
    return lines


def speedups(results: list[SessionResult]) -> dict[tuple[str, str], float]:
    """Each variant's runs per minute over the baseline's, per backend that ran both."""
    rates = {(r.backend, r.variant): r.runs_per_minute for r in results}
    return {
        (backend, variant): rate / rates[(backend, "baseline")]
        for (backend, variant), rate in rates.items()
        if variant != "baseline" and rates.get((backend, "baseline"))
    }


def target_lines(results: list[SessionResult]) -> list[str]:
    """Each target, met or missed, per session."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = []
    for r in results:
        worst = max((tick.max_s for tick in r.ticks), default=math.nan)
        in_progress = math.inf if r.in_progress_s is None else r.in_progress_s
        lines.append(
            f"- {r.backend}, {r.variant}: ticks <= {TICK_TARGET_S:.0f} s "
            f"{verdict(worst <= TICK_TARGET_S)} (worst {worst:.1f} s); `inProgress` <= "
            f"{IN_PROGRESS_TARGET_S:.0f} s {verdict(in_progress <= IN_PROGRESS_TARGET_S)}; "
            f"all queued <= {QUEUED_TARGET_S:.0f} s "
            f"{verdict(r.queued_s is not None and r.queued_s <= QUEUED_TARGET_S)}"
        )
    for (backend, variant), ratio in speedups(results).items():
        lines.append(
            f"- {backend}: runs per minute {variant} / baseline = {ratio:.2f} "
            f"(target >= {SPEEDUP_TARGET:.0f}: {verdict(ratio >= SPEEDUP_TARGET)})"
        )
    return lines


def write_report(results: list[SessionResult], say: Callable[[str], None], as_json: bool) -> None:
    """Writes the table and the targets (or everything as one JSON document)."""
    if as_json:
        say(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
        return
    for line in [*format_table(results), "", *target_lines(results)]:
        say(line)
