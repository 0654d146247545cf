"""Where the deployment files are."""

from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"


def production_instance_yaml() -> str:
    """deploy/dagster.yaml with `ForkedRunLauncher`, for tests where Docker does not run.

    Everything else (PostgreSQL from DAGSTER_PG_*, run queue, monitoring, sensor threads) is the
    production configuration. Forked, as on a single host, rather than Dagster's default
    launcher: like the Docker and K8s launchers it launches from the run's code origin, while
    the default one looks the code location up in the daemon's workspace, which a just
    restarted daemon may not have loaded yet (docs/operations.md, "Run launchers").
    """
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    config["run_launcher"] = {
        "module": "archiver_dagster.launcher.forked",
        "class": "ForkedRunLauncher",
    }
    return yaml.safe_dump(config, sort_keys=False)


def env_example(path: Path = REPOSITORY / ".env.example") -> dict[str, str]:
    """The variables of an env file (`NAME=value` lines) with their values."""
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}
