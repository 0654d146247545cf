"""`python -m devstack.scale`: the archiver with many tiny datasets, jobs and partitions.

Starts the local stack (SciCat simulator, S3 server, LTS folder) and, per storage backend
(sqlite, a throwaway PostgreSQL) and per run-queue configuration (`baseline`: as main had it;
`tuned`: the throughput change), a fresh DAGSTER_HOME made like the demo's with many dynamic
partitions, a code server and a daemon. It submits one large archive job and many small ones
through the SciCat simulator and measures: every sensor tick's duration, the time until the
large job is `inProgress` and until all its runs are queued, the runs finished per minute over
a fixed window, and the daemon's and code server's memory. It never waits for every run.
"""

import argparse
import dataclasses
import json
import shlex
import signal
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from devstack.console import say
from devstack.postgres import PostgresServer
from devstack.repository import REPOSITORY, commit
from devstack.scale.plan import FULL, SHORT, ScaleShape
from devstack.scale.report import write_report
from devstack.scale.session import ScaleSession, SessionResult
from devstack.scale.variants import VARIANTS
from devstack.stack import LocalStack

BACKENDS = ("sqlite", "postgres")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; `--short` changes the defaults of the sizes."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--short", action="store_true", help="200 + 10 x 10 datasets, 5,000 partitions, 2 min"
    )
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument(
        "--variants",
        default="baseline,tuned_forked_pooled",
        help="instance configurations (devstack/scale/variants.py), in this order",
    )
    parser.add_argument("--big-job", type=int, help="datasets in the large job (1000; short 200)")
    parser.add_argument("--small-jobs", type=int, help="jobs of 10 datasets (100; short 10)")
    parser.add_argument("--partitions", type=int, help="filler partitions (50000; short 5000)")
    parser.add_argument("--window-s", type=float, help="throughput window (300; short 120)")
    parser.add_argument("--root", type=Path, default=REPOSITORY / ".devstack" / "scale")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}")
    return args


def shape_of(args: argparse.Namespace) -> ScaleShape:
    """The session shape: full or short, with the sizes given on the command line."""
    shape = SHORT if args.short else FULL
    overrides = {
        "big_job": args.big_job,
        "small_jobs": args.small_jobs,
        "partitions": args.partitions,
        "window_s": args.window_s,
    }
    return dataclasses.replace(shape, **{k: v for k, v in overrides.items() if v is not None})


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs every backend x variant session and prints the figures."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # unwinds: services and servers stopped
    shape = shape_of(args)
    root = args.root.resolve()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    command = shlex.join(["python", "-m", "devstack.scale", *(argv or sys.argv[1:])])
    say(f"scale: {command} at commit {commit()}; work folder {root}")
    results: list[SessionResult] = []
    with ExitStack() as stack_of_servers:
        stack = stack_of_servers.enter_context(LocalStack(root / "stack"))
        postgres = None
        if "postgres" in backends:
            postgres = stack_of_servers.enter_context(PostgresServer(parent=root))
        for backend in backends:
            for name in args.variants.split(","):
                server = postgres if backend == "postgres" else None
                session = ScaleSession(stack, shape, VARIANTS[name], root, server, say)
                results.append(session.run())
    (root / "figures.json").write_text(
        json.dumps([dataclasses.asdict(r) for r in results], indent=2) + "\n"
    )
    say()
    write_report(results, say, args.json)
    return 0
