"""Where the deployment files are."""

from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"


def production_instance_yaml() -> str:
    """deploy/dagster.yaml with the default run launcher, for tests where Docker does not run.

    Everything else (PostgreSQL from DAGSTER_PG_*, run queue, monitoring, sensor threads) is the
    production configuration.
    """
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    del config["run_launcher"]
    return yaml.safe_dump(config, sort_keys=False)


def env_example(path: Path = REPOSITORY / ".env.example") -> dict[str, str]:
    """The variables of an env file (`NAME=value` lines) with their values."""
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}
