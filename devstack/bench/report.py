"""Medians of repeated runs, ratios to the machine's floor, and the human-readable table."""

import statistics
from collections.abc import Sequence
from typing import Any

MB = 1_000_000
STAGE_FLOORS = {"pack": "s3_get", "copy": "disk_write_fsync", "verify": "disk_read_uncached"}


def median(values: Sequence[float]) -> float:
    """Median, 0 for no values."""
    return statistics.median(values) if values else 0.0


def _stage_sum(run: dict[str, Any]) -> float:
    """The run's pack, copy and read-back steps' durations added up."""
    return sum(run["stages"][stage]["step_s"] for stage in STAGE_FLOORS if stage in run["stages"])


def summarize(runs: list[dict[str, Any]], payload: int, floor: dict[str, float]) -> dict[str, Any]:
    """Median figures of one shape's runs; every rate in MB/s of payload (10^6 bytes)."""
    stages: dict[str, Any] = {}
    for stage in ("pack", "copy", "verify"):
        spans = [run["stages"][stage]["span_s"] for run in runs if stage in run["stages"]]
        seconds = median(spans)
        rate = payload / MB / seconds if seconds else 0.0
        stage_floor = floor.get(STAGE_FLOORS[stage], 0.0)
        op_s = median([run["stages"][stage]["op_s"] for run in runs if stage in run["stages"]])
        stages[stage] = {
            "seconds": seconds,
            "op_seconds_sum": op_s,
            "mb_s": rate,
            "floor_mb_s": stage_floor,
            "ratio": rate / stage_floor if stage_floor else 0.0,
        }
    wall = median([run["wall_s"] for run in runs])
    # The stages' step durations added up: what the run would take if no step overlapped
    # another. (Not the spans: interleaved stages, pack 0, copy 0, pack 1, ..., have spans that
    # overlap although no two steps run at once.)
    stage_sum = median([_stage_sum(run) for run in runs])
    run_s = median([run["stages"]["run_s"] for run in runs])
    serial_floor_s = sum(
        payload / MB / f for f in (floor.get(k, 0) for k in STAGE_FLOORS.values()) if f
    )
    e2e_floor = payload / MB / serial_floor_s if serial_floor_s else 0.0
    e2e = payload / MB / wall if wall else 0.0
    return {
        "runs": len(runs),
        "all_succeeded": all(run["success"] for run in runs),
        "stages": stages,
        "total": {
            "seconds": wall,
            "run_seconds": run_s,
            "mb_s": e2e,
            "floor_mb_s": e2e_floor,
            "ratio": e2e / e2e_floor if e2e_floor else 0.0,
            "sum_of_stages_seconds": stage_sum,
            "over_sum_of_stages": wall / stage_sum if stage_sum else 0.0,
        },
        "datablocks": runs[0]["stages"].get("pack", {}).get("steps", 0),
        "peak_scratch_mb": max(run.get("peak_scratch_bytes", 0) for run in runs) / MB,
        "read_per_payload_byte": median([run["io"]["read_bytes"] / payload for run in runs]),
        "written_per_payload_byte": median([run["io"]["write_bytes"] / payload for run in runs]),
        "cancelled_write_per_payload_byte": median(
            [run["io"]["cancelled_write_bytes"] / payload for run in runs]
        ),
        # What reached the device: pages dirtied, less those discarded before write-back.
        "net_written_per_payload_byte": median(
            [
                (run["io"]["write_bytes"] - run["io"]["cancelled_write_bytes"]) / payload
                for run in runs
            ]
        ),
        "peak_rss_worker_mb": max(run["worker_peak_rss"] for run in runs) / MB,
        "peak_rss_step_mb": max(run["step_peak_rss"] for run in runs) / MB,
        "dagster_steps": runs[0]["stages"].get("steps", 0),
        "cpu_s_per_gb": median([run["cpu_s"] / payload * 1e9 for run in runs]),
        "s3_server_cpu_s_per_gb": median([run["s3_server_cpu_s"] / payload * 1e9 for run in runs]),
        "loadavg_before": [round(run["loadavg_1min_before"], 2) for run in runs],
    }


def format_shape(title: str, summary: dict[str, Any], steps_in_process: bool = False) -> str:
    """The table of one shape (with the in-process executor there are no step processes)."""
    header = f"{'stage':<18}{'seconds':>9}{'MB/s':>9}{'floor MB/s':>12}{'ratio':>7}{'op s':>8}"
    lines = [title, header]
    rows = [*summary["stages"].items(), ("total (end to end)", summary["total"])]
    for name, row in rows:
        lines.append(
            f"{name:<18}{row['seconds']:>9.2f}{row['mb_s']:>9.1f}"
            f"{row['floor_mb_s']:>12.1f}{row['ratio']:>7.2f}{row.get('op_seconds_sum', 0.0):>8.2f}"
        )
    total = summary["total"]
    lines.append(
        f"end to end {total['seconds']:.2f} s = {total['over_sum_of_stages']:.2f} x the sum of "
        f"the stages' steps ({total['sum_of_stages_seconds']:.2f} s); {summary['datablocks']} "
        f"datablocks; peak scratch {summary['peak_scratch_mb']:.0f} MB (sampled every 50 ms)"
    )
    lines.append(
        f"Dagster run (RUN_START..RUN_SUCCESS): {summary['total']['run_seconds']:.2f} s, "
        f"{summary['dagster_steps']} steps; all runs succeeded: {summary['all_succeeded']}"
    )
    lines.append(
        f"bytes per payload byte (storage layer): read {summary['read_per_payload_byte']:.2f}, "
        f"written {summary['written_per_payload_byte']:.2f} "
        f"(of which cancelled before writeback {summary['cancelled_write_per_payload_byte']:.2f}; "
        f"net {summary['net_written_per_payload_byte']:.2f})"
    )
    steps = (
        "steps ran inside it"
        if steps_in_process
        else f"largest step process {summary['peak_rss_step_mb']:.0f} MB"
    )
    lines.append(f"peak RSS: run worker {summary['peak_rss_worker_mb']:.0f} MB, {steps}")
    lines.append(
        f"CPU per GB of payload: archiver {summary['cpu_s_per_gb']:.2f} s, S3 server "
        f"{summary['s3_server_cpu_s_per_gb']:.2f} s; 1-min load before each run "
        f"{summary['loadavg_before']}"
    )
    lines.append("(seconds: first step start to last step end; op s: summed over datablocks)")
    return "\n".join(lines)


def format_floor(floor: dict[str, float]) -> str:
    """The machine's floor, one line per measurement."""
    return "\n".join(f"floor {name:<28}{value:>9.1f} MB/s" for name, value in sorted(floor.items()))
