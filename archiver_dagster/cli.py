"""`archiver-dagster`: configuration check, SciCat preflight, pool limits, audit trail."""

import argparse
import os
import sys
from collections.abc import Sequence

from archiver_dagster.settings import ConfigurationError, parse_setting, validate_environment

SCICAT_VARIABLES = (
    "SCICAT_ENDPOINT",
    "SCICAT_API_PREFIX",
    "SCICAT_JOBS_API_PREFIX",
    "SCICAT_USER",
    "SCICAT_PASSWORD",
    "SCICAT_TIMEOUT_S",
    "ARCHIVER_JOB_SUBMITTED_STATUS",
)


def _check_config(_: argparse.Namespace) -> int:
    problems = validate_environment(os.environ)
    for problem in problems:
        sys.stderr.write(f"configuration error: {problem}\n")
    if not problems:
        sys.stdout.write("configuration OK\n")
    return 1 if problems else 0


def _scicat_settings() -> tuple[dict[str, str], list[str]]:
    from archiver_dagster.settings import SETTINGS_BY_NAME

    values: dict[str, str] = {}
    problems: list[str] = []
    for name in SCICAT_VARIABLES:
        value = os.environ.get(name, SETTINGS_BY_NAME[name].default)
        if value is None:
            problems.append(f"{name} is not set: {SETTINGS_BY_NAME[name].description}")
            continue
        try:
            parsed = parse_setting(name, value)
        except ConfigurationError as error:
            problems.append(str(error))
            continue
        values[name] = str(parsed)
    return values, problems


def _check_scicat(args: argparse.Namespace) -> int:
    from archiver_dagster.scicat.client import SciCatClient
    from archiver_dagster.scicat.preflight import run_preflight

    values, problems = _scicat_settings()
    for problem in problems:
        sys.stderr.write(f"configuration error: {problem}\n")
    if problems:
        return 2
    with SciCatClient(
        endpoint=values["SCICAT_ENDPOINT"],
        api_prefix=values["SCICAT_API_PREFIX"],
        jobs_api_prefix=values["SCICAT_JOBS_API_PREFIX"],
        username=values["SCICAT_USER"],
        password=values["SCICAT_PASSWORD"],
        timeout_s=float(values["SCICAT_TIMEOUT_S"]),
        retries=args.retries,
        backoff_s=0.5,
    ) as client:
        checks = run_preflight(client, args.pid, values["ARCHIVER_JOB_SUBMITTED_STATUS"])
    for check in checks:
        sys.stdout.write(check.line() + "\n")
    failed = [check.name for check in checks if not check.ok]
    summary = f"SciCat check failed: {', '.join(failed)}" if failed else "SciCat check OK"
    sys.stdout.write(summary + "\n")
    return 1 if failed else 0


def _apply_pools(_: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from archiver_dagster.pools import apply_pool_limits, configured_pool_limits

    with DagsterInstance.get() as instance:
        limits = apply_pool_limits(instance, configured_pool_limits())
    sys.stdout.write(f"pool limits applied: {limits}\n")
    return 0


def _history(args: argparse.Namespace) -> int:
    import json

    from dagster import DagsterInstance

    from archiver_dagster.fixity.trail import dataset_history

    with DagsterInstance.get() as instance:
        events = dataset_history(instance, args.pid)
    if args.json:
        sys.stdout.write(json.dumps([e.model_dump(mode="json") for e in events], indent=1) + "\n")
    for event in [] if args.json else events:
        sys.stdout.write(event.line() + "\n")
        for archive_id, checksum in sorted(event.checksums.items()):
            sys.stdout.write(f"    {archive_id}  {checksum}\n")
    if not events:
        sys.stderr.write(f"no events of dataset {args.pid} in this Dagster instance\n")
    return 0 if events else 1


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="archiver-dagster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate the environment variables")
    check.set_defaults(handler=_check_config)
    scicat = commands.add_parser(
        "check-scicat",
        help="read-only preflight: does SciCat answer every request the archiver sends?",
    )
    scicat.add_argument("--pid", help="dataset to read (default: the first SciCat lists)")
    scicat.add_argument(
        "--retries", type=int, default=2, help="retries of a failed request (default 2)"
    )
    scicat.set_defaults(handler=_check_scicat)
    pools = commands.add_parser("apply-pools", help="set pool limits on $DAGSTER_HOME's instance")
    pools.set_defaults(handler=_apply_pools)
    history = commands.add_parser(
        "history", help="the dataset's audit trail (PREMIS events) from $DAGSTER_HOME's instance"
    )
    history.add_argument("pid", help="the dataset's PID")
    history.add_argument("--json", action="store_true", help="print JSON instead of lines")
    history.set_defaults(handler=_history)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `archiver-dagster`."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
