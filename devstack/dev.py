"""`python -m devstack dev`: the local stack plus `dagster dev` on 127.0.0.1, stopped together."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance

from archiver_dagster.partitions import DATASETS
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from devstack.demo import prepare_dagster_home, say
from devstack.repository import REPOSITORY
from devstack.seed import SciCatSeeder, sample_files, upload_files
from devstack.services import stop_process_group
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

SAMPLE_PID = "20.500.11935/sample-dataset"


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Writes the stack's variables so other shells can `source` them."""
    path.write_text("".join(f"export {name}='{value}'\n" for name, value in env.items()))


def seed_sample(stack: LocalStack, instance: DagsterInstance) -> None:
    """Puts one sample dataset in SciCat, the landing zone and the partition set."""
    files = sample_files(12, 256 * 1024)
    if stack.scicat.dataset(SAMPLE_PID) is None:
        SciCatSeeder(stack.scicat.url, "archiver", "archiver-password").create_dataset(
            SAMPLE_PID, files
        )
    upload_files(stack.s3.client(), LANDING_ZONE_BUCKET, "openem-network", SAMPLE_PID, files)
    instance.add_dynamic_partitions(DATASETS, [SAMPLE_PID])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_dev(root: Path, port: int) -> int:
    """Starts the stack and the Dagster UI; Ctrl-C stops both."""
    home = prepare_dagster_home(root / "dagster_home")
    with LocalStack(root / "stack", persist_scicat=True) as stack:
        env = {**os.environ, **stack.env(), "DAGSTER_HOME": str(home)}
        os.environ.update(env)
        write_env_file(root / "env", stack.env())
        with DagsterInstance.get() as instance:
            say(f"pool limits: {apply_pool_limits(instance, configured_pool_limits())}")
            seed_sample(stack, instance)
        say(f"SciCat simulator {stack.scicat.url}, S3 {stack.s3.url}, LTS {stack.lts_root}")
        say(f"variables in {root / 'env'}; sample dataset {SAMPLE_PID} seeded")
        say(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops everything)")
        dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
        # Its own process group, stopped as a whole: `dagster dev` started as a plain child
        # ignores signals and a kill would orphan its webserver, daemon and code server. The
        # working folder is not the repository, whose dagster.yaml is DAGSTER_HOME's template.
        process = subprocess.Popen(
            [
                dagster,
                "dev",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                str(REPOSITORY / "workspace.yaml"),
            ],
            cwd=root,
            env=env,
            start_new_session=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop_process_group(process, timeout_s=30)
