"""`python -m devstack`: the demo, the local stack and the stack with the Dagster UI.

Development tooling, run from a source checkout after `make install`; not part of the
`archiver-dagster` distribution. The benchmark and the soak have their own entry points,
`python -m devstack.bench` and `python -m devstack.soak`.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from devstack.demo import run_demo

    return run_demo(Path(args.root).resolve(), args.files, args.file_size)


def _dev(args: argparse.Namespace) -> int:
    from devstack.dev import run_dev

    return run_dev(Path(args.root).resolve(), args.port)


def _stack(args: argparse.Namespace) -> int:
    from devstack.stack_command import run_stack

    return run_stack(Path(args.root).resolve(), args.scicat_port, args.s3_port)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="archive a generated dataset on the local stack")
    demo.add_argument("--root", default=".devstack/demo", help="folder for the demo's state")
    demo.add_argument("--files", type=int, default=24, help="number of files")
    demo.add_argument("--file-size", type=int, default=512 * 1024, help="bytes per file")
    demo.set_defaults(handler=_demo)
    stack = commands.add_parser("stack", help="only the local stack, until Ctrl-C")
    stack.add_argument("--root", default=".devstack/stack", help="folder for the stack's state")
    stack.add_argument("--scicat-port", type=int, default=0, help="0: any free port")
    stack.add_argument("--s3-port", type=int, default=0, help="0: any free port")
    stack.set_defaults(handler=_stack)
    dev = commands.add_parser("dev", help="local stack + Dagster UI on 127.0.0.1")
    dev.add_argument("--root", default=".devstack/dev", help="folder for the stack's state")
    dev.add_argument("--port", type=int, default=3000, help="Dagster UI port")
    dev.set_defaults(handler=_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m devstack`."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
