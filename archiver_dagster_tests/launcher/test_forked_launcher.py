"""The zygote: one per process, shared by its launchers; a failed one fails the launch by name."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dagster import job, op, reconstructable
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import LaunchRunContext
from dagster._core.storage.dagster_run import DagsterRunStatus

from archiver_dagster.launcher.forked import ForkedRunLauncher
from archiver_dagster_tests.helpers import wait_until
from devstack.bench.procfs import children_by_parent
from devstack.demo import open_instance, prepare_dagster_home
from devstack.scale.processes import ZYGOTE_MARK, command_line


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


def test_launchers_built_at_once_share_one_zygote(tmp_path: Path) -> None:
    """Dagster may build one launcher per dequeue thread; they must not start one zygote each."""
    home = prepare_dagster_home(tmp_path / "dagster_home")
    modules = ["archiver_dagster.launcher.worker_process"]
    with open_instance(home) as instance:
        launchers = [ForkedRunLauncher(preload_modules=modules) for _ in range(4)]
        origin = reconstructable(nothing_job).get_python_origin()
        runs = [instance.create_run_for_job(nothing_job, job_code_origin=origin) for _ in "abcd"]
        for launcher in launchers:
            launcher.register_instance(instance)

        with ThreadPoolExecutor(max_workers=4) as threads:
            list(
                threads.map(
                    lambda pair: pair[0].launch_run(
                        LaunchRunContext(dagster_run=pair[1], workspace=None)
                    ),
                    zip(launchers, runs, strict=True),
                )
            )

        zygotes = [
            pid
            for pid in children_by_parent().get(os.getpid(), [])
            if ZYGOTE_MARK in command_line(pid)
        ]
        assert len(zygotes) == 1
        for run in runs:
            wait_until(
                lambda run_id=run.run_id: instance.get_run_by_id(run_id).is_finished,
                60,
                what=f"run {run.run_id} to finish",
            )
            assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.SUCCESS
        launchers[0].dispose()
