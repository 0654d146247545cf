"""One archival run in its own process (`python -m devstack.bench.worker`).

Runs `archive_dataset_job` for one dataset on the instance in DAGSTER_HOME and writes a JSON
report: the run's stage spans from the event log, and the storage I/O of this process and of
every descendant (the forkserver, which has reaped the step processes, so their counters are
included in its own). Nothing here runs in production.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance, execute_job, reconstructable

from archiver_dagster.definitions import archive_dataset_job_def, multiprocess_archive_job_def
from devstack.bench import procfs

EXECUTORS = ("in_process", "multiprocess")
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Without scratch (decision 72) a tar is packed onto the LTS in one op and there is no copy.
STAGE_OPS = {
    "pack": ("pack_datablock", "pack_onto_lts"),
    "copy": ("copy_to_lts",),
    "verify": ("verify_lts_copy",),
}
_STEP_EVENTS = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
_RUN_EVENTS = {DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS}
_OUTPUT = {DagsterEventType.STEP_OUTPUT}


def op_of(step_key: str) -> str:
    """The op name of a step key such as `datablocks.pack_datablock[datablock_0]`."""
    return step_key.split("[", 1)[0].rsplit(".", 1)[-1]


def _op_seconds(event: Any) -> float:
    """The `seconds` an op recorded in its output metadata (0 if none)."""
    data = event.dagster_event.step_output_data if event.dagster_event else None
    value = data.metadata.get("seconds") if data is not None else None
    return float(value.value) if value is not None else 0.0


def stage_spans(instance: DagsterInstance, run_id: str) -> dict[str, Any]:
    """Per stage: wall span (first start to last success), step seconds and op seconds."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    op_seconds: dict[str, float] = {}
    run: dict[DagsterEventType, float] = {}
    for event in instance.all_logs(run_id, of_type=_STEP_EVENTS | _RUN_EVENTS | _OUTPUT):
        kind = event.dagster_event_type
        if kind in _RUN_EVENTS:
            run[kind] = event.timestamp
        elif kind == DagsterEventType.STEP_OUTPUT and event.step_key:
            op_seconds[event.step_key] = _op_seconds(event)
        elif event.step_key:
            target = starts if kind == DagsterEventType.STEP_START else ends
            target[event.step_key] = event.timestamp
    stages: dict[str, Any] = {}
    for stage, op_names in STAGE_OPS.items():
        keys = [key for key in starts if op_of(key) in op_names and key in ends]
        if keys:
            stages[stage] = {
                "span_s": max(ends[k] for k in keys) - min(starts[k] for k in keys),
                "step_s": sum(ends[k] - starts[k] for k in keys),
                "op_s": sum(op_seconds.get(k, 0.0) for k in keys),
                "steps": len(keys),
            }
    start = run.get(DagsterEventType.RUN_START, 0.0)
    stages["run_s"] = run.get(DagsterEventType.RUN_SUCCESS, start) - start
    stages["steps"] = sum(1 for key in starts if key in ends)
    return stages


def run_once(pid: str, executor: str) -> tuple[bool, str, DagsterInstance]:
    """Runs the archive job for `pid` with the code location's executor or in process."""
    instance = DagsterInstance.get()
    if executor == "in_process":
        result = archive_dataset_job_def().execute_in_process(
            instance=instance, partition_key=pid, run_config=QUIET_RUN_CONFIG, raise_on_error=False
        )
        return result.success, result.run_id, instance
    with execute_job(
        reconstructable(multiprocess_archive_job_def),
        instance=instance,
        tags={"dagster/partition": pid},
        run_config=QUIET_RUN_CONFIG,
        raise_on_error=False,
    ) as job_result:
        return job_result.success, job_result.run_id, instance


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one archival and writes its JSON report to `--out`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pid", required=True)
    parser.add_argument("--executor", choices=EXECUTORS, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    io_before = procfs.read_io()
    cpu_before = procfs.cpu_seconds()
    load = os.getloadavg()[0]
    started = time.monotonic()
    success, run_id, instance = run_once(args.pid, args.executor)
    wall_s = time.monotonic() - started
    io = procfs.add_io(procfs.read_io(), io_before, sign=-1)
    cpu = procfs.cpu_seconds() - cpu_before
    for child in procfs.descendants(os.getpid()):
        procfs.add_io(io, procfs.read_io(child))  # started during the run: all of it counts
        cpu += procfs.cpu_seconds(child)
    report = {
        "success": success,
        "run_id": run_id,
        "wall_s": wall_s,
        "stages": stage_spans(instance, run_id),
        "io": io,
        "cpu_s": cpu,
        "loadavg_1min_before": load,
        "worker_max_rss": procfs.peak_rss_bytes(),  # VmHWM: ru_maxrss keeps the pre-exec parent's
    }
    instance.dispose()
    args.out.write_text(json.dumps(report))
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
