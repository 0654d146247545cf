"""The process run workers are forked from: it imports the code location once, then forks.

Started by `ForkedRunLauncher` as `python -m archiver_dagster.launcher.zygote MODULE...`, in a
session of its own. It reads one JSON request per line on stdin, `{"execute_run_args": ...}`
(a serialized `ExecuteRunArgs`), forks a run worker for it and answers `{"pid": N}` on stdout.
It imports the preload modules before the first request and creates no thread, connection or
client that a fork would copy in use. It exits when its stdin closes (the launcher's process
ended); the workers it forked run on, each in a session of its own.
"""

import importlib
import json
import os
import random
import signal
import sys
import traceback
from typing import TextIO

from dagster import _check as check
from dagster._cli.api import execute_run_command
from dagster._utils.interrupts import setup_interrupt_handlers


def run_worker(execute_run_args: str) -> int:
    """Executes one run as `dagster api execute_run` does; the process's exit code."""
    setup_interrupt_handlers()  # SIGTERM (terminate) cancels the run as SIGINT does
    execute = check.not_none(execute_run_command.callback)
    try:
        execute(input_json=execute_run_args, compressed_input_json=None)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def _reap_workers(signum: int, frame: object) -> None:
    """Waits for every exited worker and logs how a worker that failed ended.

    Waiting also counts the workers' CPU time as the zygote's children's.
    """
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            _log(f"run worker {pid} was terminated by {signal.Signals(-code).name}")
        elif code:
            _log(f"run worker {pid} exited with code {code}")


def _log(message: str) -> None:
    """Writes one line to stderr (the daemon's log) directly: safe within a signal handler."""
    os.write(2, f"archiver_dagster.launcher.zygote: {message}\n".encode())


def _fork_worker(execute_run_args: str, protocol: tuple[TextIO, TextIO]) -> int:
    """Forks a run worker; in the parent, its pid. The child never returns."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for stream in protocol:
            stream.close()
        os.setsid()  # its own session: signals to the launcher's or zygote's group miss it
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own subprocesses are waited for
        random.seed()  # not the sequence of every sibling
        code = run_worker(execute_run_args)
    except BaseException:  # report anything, then leave without unwinding
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(modules: list[str]) -> None:
    """Imports `modules`, then forks a run worker for every request until stdin closes."""
    # The protocol keeps private copies of stdin and stdout; fd 1 becomes stderr, so nothing an
    # import or a run prints can corrupt an answer, and fd 0 becomes /dev/null.
    requests = os.fdopen(os.dup(0), "r")
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    signal.signal(signal.SIGCHLD, _reap_workers)
    for module in modules:
        importlib.import_module(module)
    for line in requests:
        request = json.loads(line)
        pid = _fork_worker(request["execute_run_args"], (requests, answers))
        answers.write(json.dumps({"pid": pid}) + "\n")


if __name__ == "__main__":
    serve(sys.argv[1:])
