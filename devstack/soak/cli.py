"""`python -m devstack.soak`: archive many datasets while faults are injected.

Starts the local stack (SciCat simulator, S3 server behind a faulty proxy, an LTS on a small
tmpfs when run as root) and the Dagster code server and daemon, seeds datasets of mixed sizes
(some with a registered file missing from the landing zone), submits them as SciCat archive
jobs while injecting SciCat outages and 5xx bursts, S3 503s and connection resets, run-worker
kills, a daemon restart and a full LTS, waits for every job to end, then checks the
invariants and prints the figures. Exits 1 when an invariant is broken.
"""

import argparse
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from devstack.console import say
from devstack.repository import REPOSITORY, commit
from devstack.soak.fault_plan import FULL_COUNTS, SHORT_COUNTS, FaultProfile
from devstack.soak.report import format_report
from devstack.soak.session import Soak, SoakConfig

FULL = {"datasets": 40, "jobs": 8, "duration_s": 300.0, "timeout_s": 900.0}
SHORT = {"datasets": 8, "jobs": 4, "duration_s": 100.0, "timeout_s": 600.0}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; `--short` changes the defaults of the others."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--short", action="store_true", help="8 datasets, each fault once")
    parser.add_argument("--datasets", type=int, help="datasets (default 40, short 8)")
    parser.add_argument("--jobs", type=int, help="SciCat archive jobs (default 8, short 4)")
    parser.add_argument("--seed", type=int, default=1, help="seeds datasets and faults")
    parser.add_argument(
        "--duration-s", type=float, help="faults during this long after the first job (300/100)"
    )
    parser.add_argument(
        "--timeout-s", type=float, help="longest wait for the jobs after that (900/600)"
    )
    parser.add_argument("--jobs-api", choices=("v3", "v4"), default="v3", help="SciCat jobs API")
    parser.add_argument(
        "--faults",
        choices=[profile.value for profile in FaultProfile],
        default=FaultProfile.MIXED.value,
        help="mixed: every kind of fault (default); transient: a 60 s SciCat outage and 5 %% of "
        "S3 responses reset; none: a baseline",
    )
    parser.add_argument("--root", type=Path, default=REPOSITORY / ".devstack" / "soak")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    for name, value in (SHORT if args.short else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the soak; 0 when every invariant held, 1 otherwise."""
    args = parse_args(argv)
    # A SIGTERM (a CI timeout, say) unwinds like Ctrl-C: services stopped, the tmpfs unmounted.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    config = SoakConfig(
        root=args.root.resolve(),
        datasets=args.datasets,
        jobs=args.jobs,
        seed=args.seed,
        duration_s=args.duration_s,
        timeout_s=args.timeout_s,
        fault_counts=SHORT_COUNTS if args.short else FULL_COUNTS,
        jobs_api=args.jobs_api,
        profile=FaultProfile(args.faults),
    )
    command = shlex.join(["python", "-m", "devstack.soak", *(argv or sys.argv[1:])])
    checked_out = commit()
    say(f"soak: {command} at commit {checked_out}; work folder {config.root}")
    report = Soak(config, say).run()
    report.command = command
    report.commit = checked_out
    (config.root / "figures.json").write_text(report.model_dump_json(indent=2) + "\n")
    if args.json:
        say(report.model_dump_json(indent=2))
    else:
        say()
        for line in format_report(report):
            say(line)
    return 0 if report.held else 1
