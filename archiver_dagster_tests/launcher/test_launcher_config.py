"""The `run_launcher` block docs/operations.md gives loads as the instance's launcher."""

import re
from pathlib import Path

import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError

from archiver_dagster.launcher.forked import ForkedRunLauncher
from devstack.demo import REPO_DAGSTER_YAML, open_instance

OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"


def documented_launcher_block() -> dict:
    """The YAML block of the "Run launchers" section."""
    section = OPERATIONS.read_text().split("### Run launchers", 1)[1]
    [block] = re.findall(r"```yaml\n(.*?)```", section.split("\n## ", 1)[0], flags=re.S)
    return yaml.safe_load(block)


def home_with(path: Path, run_launcher: dict) -> Path:
    config = yaml.safe_load(REPO_DAGSTER_YAML.read_text())
    config["run_launcher"] = run_launcher
    path.mkdir()
    (path / "dagster.yaml").write_text(yaml.safe_dump(config))
    return path


def test_the_documented_block_makes_the_instance_fork_its_runs(tmp_path: Path) -> None:
    block = documented_launcher_block()["run_launcher"]

    with open_instance(home_with(tmp_path / "home", block)) as instance:
        launcher = instance.run_launcher

    assert isinstance(launcher, ForkedRunLauncher)
    assert launcher.supports_check_run_worker_health
    assert launcher.inst_data is not None
    assert launcher.inst_data.config_dict == block["config"]


def test_an_unknown_setting_is_refused_by_name(tmp_path: Path) -> None:
    block = {**documented_launcher_block()["run_launcher"], "config": {"preload": ["x"]}}

    with (
        pytest.raises(DagsterInvalidConfigError, match="preload"),
        open_instance(home_with(tmp_path / "home", block)) as instance,
    ):
        _ = instance.run_launcher
