"""`python -m devstack.bench`: archive generated datasets end to end and report figures.

The local stack (SciCat simulator, moto S3 server, LTS and scratch folders) lives in a temporary
folder on a real disk (tmpfs is refused). Each run archives a dataset freshly uploaded to a freshly
started S3 server, in its own worker process (`bench.worker`), sampled for peak RSS; uploads are
not timed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from archiver_dagster.partitions import DATASETS
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from archiver_dagster.settings import SETTINGS_BY_NAME
from devstack.bench import dataset, floor, procfs, report
from devstack.bench.worker import EXECUTORS
from devstack.console import say
from devstack.demo import prepare_dagster_home
from devstack.repository import python_path_env
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

RAM_FILESYSTEMS = {"tmpfs", "ramfs"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m devstack.bench", description=__doc__)
    parser.add_argument(
        "--shape", choices=("large", "small", "many", "both", "none"), default="both"
    )
    parser.add_argument("--total-gib", type=float, default=2.0, help="dataset size (GiB)")
    parser.add_argument("--file-mib", type=float, default=None, help="override the file size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape (median)")
    parser.add_argument(
        "--target-size-gb",
        default=SETTINGS_BY_NAME["ARCHIVER_TARGET_SIZE_GB"].default,
        help="ARCHIVER_TARGET_SIZE_GB (default: the archiver's, one datablock up to that size)",
    )
    parser.add_argument(
        "--datablock-gib",
        type=float,
        default=1.0,
        help="the `many` shape's datablock size (GiB of payload): its ARCHIVER_TARGET_SIZE_GB",
    )
    parser.add_argument("--checksum", default="md5", help="ARCHIVER_CHECKSUM_ALG")
    parser.add_argument(
        "--no-scratch",
        action="store_true",
        help="ARCHIVER_SCRATCH_FOLDER empty: tars packed straight onto the LTS (decision 72)",
    )
    parser.add_argument(
        "--executor", choices=EXECUTORS, default="in_process", help="default: the code location's"
    )
    parser.add_argument("--overhead-repeat", type=int, default=3, help="tiny runs per executor")
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the temp folder")
    parser.add_argument(
        "--dagster-home-parent",
        type=Path,
        default=None,
        help="parent of DAGSTER_HOME (default: the temp folder); e.g. /dev/shm keeps the sqlite"
        " storage's commits off the data disk, as Dagster's Postgres on its own host would",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser.parse_args(argv)


def run_worker(home: Path, pid: str, executor: str, out: Path, scratch: Path) -> dict[str, Any]:
    """Archives `pid` in a worker process; returns its report, sampled peak RSS and scratch."""
    command = [sys.executable, "-m", "devstack.bench.worker"]
    command += ["--pid", pid, "--executor", executor, "--out", str(out)]
    log = out.with_suffix(".log")
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command, env=python_path_env({**os.environ, "DAGSTER_HOME": str(home)}), stderr=stderr
        )
        sampler = procfs.RssSampler(process.pid).start()
        scratch_sampler = procfs.FolderSampler(scratch).start()
        try:
            process.wait()
        finally:
            sampler.stop()
            scratch_sampler.stop()
    if not out.is_file() or process.returncode:
        text = log.read_text(errors="replace")
        shown = text if len(text) < 6000 else text[:3000] + "\n...\n" + text[-3000:]
        raise RuntimeError(f"benchmark worker exited with {process.returncode}:\n{shown}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["worker_peak_rss"] = max(result["worker_max_rss"], sampler.peaks.get(process.pid, 0))
    result["sampled_worker_peak_rss"] = sampler.peaks.get(process.pid, 0)
    result["step_peak_rss"] = sampler.largest_other_than_root()
    result["peak_scratch_bytes"] = scratch_sampler.peak_bytes
    return result


def archive_runs(
    stack: LocalStack, home: Path, shape: dataset.Shape, args: argparse.Namespace, repeat: int
) -> tuple[list[dict[str, Any]], float]:
    """Seeds and archives `shape` `repeat` times; returns the runs and the S3 GET floor."""
    runs: list[dict[str, Any]] = []
    s3_floors: list[float] = []
    for index in range(repeat):
        pid = f"20.500.11935/bench-{shape.name}-{uuid.uuid4().hex[:8]}"
        # Every run gets a fresh moto: one that has stored and deleted earlier datasets grows
        # (1.5 -> 3.6 GB) and serves slower, and made each run 10-20 % slower than the one before.
        stack.restart_s3()
        keys = dataset.seed(stack, pid, shape)
        if shape.name != "tiny":
            # Before every run, not only the first: the same preparation for each repetition.
            concurrency = int(os.environ.get("ARCHIVER_DOWNLOAD_CONCURRENCY", "8"))
            client = stack.s3.client()
            s3_floors.append(floor.s3_get_floor(client, LANDING_ZONE_BUCKET, keys, concurrency))
        with DagsterInstance.get() as instance:
            instance.add_dynamic_partitions(DATASETS, [pid])
        os.sync()
        s3_pid = procfs.find_descendant(os.getpid(), "moto.server", str(stack.s3.port)) or 0
        s3_cpu = procfs.cpu_seconds(s3_pid)
        out = home / f"run-{uuid.uuid4().hex}.json"
        result = run_worker(home, pid, args.executor, out, stack.scratch_root)
        result["s3_server_cpu_s"] = procfs.cpu_seconds(s3_pid) - s3_cpu
        runs.append(result)
        if not args.json:
            say(
                f"  {shape.name} run {index + 1}/{repeat}: {result['wall_s']:.2f} s, "
                f"{shape.total / 1e6 / result['wall_s']:.1f} MB/s, success={result['success']}"
            )
        for child in stack.lts_root.iterdir():
            shutil.rmtree(child)
    return runs, report.median(s3_floors) if s3_floors else 0.0


def benchmark(root: Path, home_root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Runs every requested shape and the overhead runs under `root`; returns the figures."""
    home = prepare_dagster_home(home_root / "dagster_home")
    os.environ["DAGSTER_HOME"] = str(home)
    settings = vars(args) | {
        "workdir": str(root),
        "dagster_home_parent": str(home_root),
        "dagster_home_filesystem": procfs.filesystem_type(home_root),
    }
    results: dict[str, Any] = {"settings": settings, "shapes": {}}
    with LocalStack(root / "stack") as stack:
        os.environ.update(stack.env())
        if args.no_scratch:  # the worker's code location then loads the no-scratch chain
            os.environ["ARCHIVER_SCRATCH_FOLDER"] = ""
        os.environ["ARCHIVER_TARGET_SIZE_GB"] = str(args.target_size_gb)
        os.environ["ARCHIVER_CHECKSUM_ALG"] = args.checksum
        with DagsterInstance.get() as instance:
            results["pools"] = apply_pool_limits(instance, configured_pool_limits())
        probe = min(int(args.total_gib * (1 << 30)), 1 << 30)
        machine = floor.disk_floor(stack.scratch_root, probe)
        machine[f"checksum_{args.checksum}_1core"] = floor.checksum_floor(args.checksum)
        results["floor"] = machine
        names = {"both": ("large", "small"), "none": ()}.get(args.shape, (args.shape,))
        for name in names:
            target_gb = str(args.target_size_gb)
            if name == "many":  # datablocks of --datablock-gib GiB of payload
                target_gb = f"{args.datablock_gib * (1 << 30) / 1e9:.9f}"
            os.environ["ARCHIVER_TARGET_SIZE_GB"] = target_gb
            shape = dataset.make_shape(name, args.total_gib, args.file_mib)
            runs, s3_floor = archive_runs(stack, home, shape, args, args.repeat)
            shape_floor = machine | {"s3_get": s3_floor}
            summary = report.summarize(runs, shape.total, shape_floor)
            summary |= {"label": shape.label(), "payload_bytes": shape.total, "s3_get": s3_floor}
            summary["target_size_gb"] = target_gb
            results["shapes"][name] = summary | {"raw_runs": runs}
        os.environ["ARCHIVER_TARGET_SIZE_GB"] = str(args.target_size_gb)
        overhead: dict[str, Any] = {}
        executors = EXECUTORS if args.overhead_repeat else ()
        for executor in executors:
            tiny_args = argparse.Namespace(**(vars(args) | {"executor": executor}))
            runs, _ = archive_runs(
                stack, home, dataset.make_shape("tiny", 0, None), tiny_args, args.overhead_repeat
            )
            overhead[executor] = {
                "wall_s": report.median([run["wall_s"] for run in runs]),
                "run_s": report.median([run["stages"]["run_s"] for run in runs]),
                "steps": runs[0]["stages"]["steps"],
            }
        results["overhead_tiny_dataset"] = overhead
    return results


def print_report(results: dict[str, Any]) -> None:
    """The human-readable tables."""
    settings = results["settings"]
    say()
    say(
        f"checksum {settings['checksum']}, target size {settings['target_size_gb']} GB, "
        f"executor {settings['executor']}, "
        f"{'no scratch' if settings['no_scratch'] else 'packed on scratch'}, "
        f"pools {results['pools']}, medians of "
        f"{settings['repeat']}, Dagster storage on {settings['dagster_home_filesystem']}"
    )
    say(report.format_floor(results["floor"]))
    for name, summary in results["shapes"].items():
        say()
        say(
            report.format_shape(
                f"{name}: {summary['label']} ({summary['payload_bytes'] / 1e6:.0f} MB payload)",
                summary,
                steps_in_process=settings["executor"] == "in_process",
            )
        )
    for executor, row in results.get("overhead_tiny_dataset", {}).items():
        say(
            f"overhead, tiny dataset (4 x 64 KiB), {executor}: {row['wall_s']:.2f} s end to end, "
            f"{row['run_s']:.2f} s run, {row['steps']} steps"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark; returns the exit code."""
    args = parse_args(argv)
    parent = args.workdir or Path(tempfile.gettempdir())
    fs_type = procfs.filesystem_type(parent)
    if fs_type in RAM_FILESYSTEMS:
        say(f"{parent} is on {fs_type}: pass --workdir on a real disk")
        return 2
    root = Path(tempfile.mkdtemp(prefix="archiver-bench-", dir=parent))
    home_root = root
    if args.dagster_home_parent is not None:
        home_root = Path(tempfile.mkdtemp(prefix="archiver-bench-", dir=args.dagster_home_parent))
    if not args.json:
        say(f"work folder {root} ({fs_type}); landing zone in the moto server's process")
    try:
        results = benchmark(root, home_root, args)
        results["filesystem"] = fs_type
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            if home_root != root:
                shutil.rmtree(home_root, ignore_errors=True)
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    else:
        print_report(results)
    ok = all(shape["all_succeeded"] for shape in results["shapes"].values())
    return 0 if ok else 1
