"""Runs the SciCat simulator in the foreground until SIGINT or SIGTERM.

Usage: `python -m devstack.scicat_sim --port 0 --state-file state.json
--user archiver:archiver-password`. The first line written to stdout is the server's URL.
"""

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from devstack.scicat_sim.simulator import DEFAULT_USERS, SciCatSimulator


def _user(text: str) -> tuple[str, str]:
    username, sep, password = text.partition(":")
    if not sep or not username:
        raise argparse.ArgumentTypeError(f"expected USER:PASSWORD, got {text!r}")
    return username, password


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(prog="python -m devstack.scicat_sim")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    parser.add_argument("--state-file", type=Path, default=None, help="JSON file for the state")
    parser.add_argument(
        "--user",
        type=_user,
        action="append",
        default=None,
        metavar="USER:PASSWORD",
        help="an account that may log in (repeatable; default archiver:archiver-password)",
    )
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="token lifetime in s")
    parser.add_argument("--log-level", default="INFO", help="logging level")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Starts the simulator, writes its URL to stdout and serves until a stop signal."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    users = dict(args.user) if args.user else dict(DEFAULT_USERS)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    simulator = SciCatSimulator(
        host=args.host,
        port=args.port,
        state_file=args.state_file,
        users=users,
        token_ttl_s=args.token_ttl,
    )
    with simulator:
        sys.stdout.write(simulator.url + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
