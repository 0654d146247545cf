"""A zygote that cannot start fails the launch with the launcher's error, and is started anew."""

from pathlib import Path

import pytest
from dagster import job, op, reconstructable
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import LaunchRunContext

from archiver_dagster.launcher.forked import ForkedRunLauncher
from devstack.demo import open_instance, prepare_dagster_home


@op
def nothing() -> None:
    """Does nothing."""


@job
def nothing_job() -> None:
    """One op that does nothing."""
    nothing()


def test_a_zygote_that_cannot_import_fails_the_launch_by_name(tmp_path: Path) -> None:
    home = prepare_dagster_home(tmp_path / "dagster_home")
    launcher = ForkedRunLauncher(preload_modules=["archiver_dagster_no_such_module"])
    with open_instance(home) as instance:
        launcher.register_instance(instance)
        origin = reconstructable(nothing_job).get_python_origin()
        runs = [instance.create_run_for_job(nothing_job, job_code_origin=origin) for _ in "ab"]

        for run in runs:  # each launch starts a zygote again, and fails the same way
            with pytest.raises(DagsterLaunchFailedError, match="zygote failed: it exited"):
                launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
        launcher.dispose()
