"""`python -m devstack stack`: the local stack alone, in the foreground, until Ctrl-C or SIGTERM."""

import contextlib
import signal
import threading
from pathlib import Path

from devstack.demo import say
from devstack.dev import write_env_file
from devstack.stack import LocalStack


def run_stack(root: Path, scicat_port: int, s3_port: int) -> int:
    """Starts the SciCat simulator (persistent), the S3 server and the folders; waits; stops."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(root, scicat_port=scicat_port, s3_port=s3_port, persist_scicat=True) as stack:
        write_env_file(root / "env", stack.env())
        say(f"SciCat simulator {stack.scicat.url}, S3 {stack.s3.url}, LTS {stack.lts_root}")
        say(f"variables for the archiver: source {root / 'env'}  (Ctrl-C stops the stack)")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    say("stack stopped")
    return 0
