"""Re-executing a failed archival run: the landing zone is released only if the world agrees.

The step that deletes landing-zone objects re-checks, at that moment, that every LTS copy is
there with its verified size and that SciCat lists exactly those datablocks; it never trusts
the manifests an earlier run stored.
"""

from collections.abc import Iterator

import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    JobDefinition,
    ReexecutionOptions,
    execute_job,
    in_process_executor,
    reconstructable,
)

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME, archive_dataset_job
from archiver_dagster.definitions import build_resources
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster_tests.helpers import (
    archive_status,
    landing_zone_keys,
    lts_folder,
    run_cleanup_sensor,
)
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
ARCHIVED_BODY = "datasetOnArchiveDisk"


def archive_job() -> JobDefinition:
    """The production archival job with the stack's resources (reconstructable)."""
    definitions = Definitions(
        assets=archival_assets,
        jobs=[archive_dataset_job],
        resources=build_resources(),
        executor=in_process_executor,
    )
    return definitions.resolve_job_def(ARCHIVE_JOB_NAME)


def run_archive(instance: DagsterInstance, pid: str) -> str:
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    tags = {"dagster/partition": pid}
    with execute_job(reconstructable(archive_job), instance, tags=tags, run_config=QUIET) as result:
        return result.run_id


def reexecute_from_failure(instance: DagsterInstance, run_id: str) -> tuple[bool, list[str]]:
    """Re-executes the run from failure, as the UI does; returns success and failure messages."""
    options = ReexecutionOptions.from_failure(run_id, instance)
    parent = instance.get_run_by_id(run_id)
    assert parent is not None
    with execute_job(
        reconstructable(archive_job),
        instance,
        tags=parent.tags,  # the UI's re-execution keeps the parent's tags, its partition too
        reexecution_options=options,
        run_config=QUIET,
    ) as result:
        failures = [
            str(event.step_failure_data.error.message if event.step_failure_data.error else "")
            for event in result.get_step_failure_events()
        ]
        return result.success, failures


@pytest.fixture
def final_update_refused(stack: LocalStack) -> Iterator[None]:
    """SciCat refuses the lifecycle update that marks the dataset archived (HTTP 400)."""
    stack.scicat.fail_next(
        100, status=400, path_contains="datasetlifecycle", body_contains=ARCHIVED_BODY
    )
    yield
    stack.scicat.clear_faults()


def failed_at_the_end(
    stack: LocalStack, instance: DagsterInstance, pid: str, seed_dataset
) -> tuple[str, int]:
    """Archives `pid` while the final lifecycle update is refused; returns the run and objects."""
    seed_dataset(pid)
    objects = len(landing_zone_keys(stack, pid))
    run_id = run_archive(instance, pid)
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status.value == "FAILURE"
    assert len(landing_zone_keys(stack, pid)) == objects  # nothing released yet
    stack.scicat.clear_faults()
    return run_id, objects


def test_reexecution_after_cleanup_keeps_the_landing_zone(
    stack, instance, seed_dataset, unique_pid, final_update_refused
):
    pid = unique_pid()
    run_id, objects = failed_at_the_end(stack, instance, pid, seed_dataset)
    run_cleanup_sensor(instance)
    assert stack.scicat.datablocks(pid) == [] and not lts_folder(stack, pid).exists()

    success, failures = reexecute_from_failure(instance, run_id)

    assert not success
    assert len(landing_zone_keys(stack, pid)) == objects  # the only copy is still there
    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert any("missing on the LTS" in message for message in failures), failures


def test_reexecution_without_cleanup_finishes_the_archival(
    stack, instance, seed_dataset, unique_pid, final_update_refused
):
    pid = unique_pid()
    run_id, _ = failed_at_the_end(stack, instance, pid, seed_dataset)

    success, _ = reexecute_from_failure(instance, run_id)

    assert success
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    assert landing_zone_keys(stack, pid) == []


def test_reexecution_refuses_when_scicat_lists_other_datablocks(
    stack, instance, seed_dataset, unique_pid, final_update_refused
):
    pid = unique_pid()
    run_id, objects = failed_at_the_end(stack, instance, pid, seed_dataset)
    [block] = stack.scicat.datablocks(pid)
    stack.scicat.delete_datablock(pid, block["_id"])  # e.g. removed by an operator meanwhile

    success, failures = reexecute_from_failure(instance, run_id)

    assert not success
    assert any("SciCat lists" in message for message in failures), failures
    assert len(landing_zone_keys(stack, pid)) == objects
    assert archive_status(stack, pid) != "datasetOnArchiveDisk"


def test_object_replaced_after_packing_is_kept_the_others_released(
    stack, instance, seed_dataset, unique_pid, final_update_refused
):
    pid = unique_pid()
    run_id, _ = failed_at_the_end(stack, instance, pid, seed_dataset)
    replaced = landing_zone_keys(stack, pid)[0]
    stack.s3.client().put_object(Bucket=LANDING_ZONE_BUCKET, Key=replaced, Body=b"new data")

    success, _ = reexecute_from_failure(instance, run_id)

    assert success
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    assert landing_zone_keys(stack, pid) == [replaced]  # newer data nobody archived
    record = instance.fetch_materializations(AssetKey("verified_datablocks"), limit=1).records[0]
    metadata = record.asset_materialization.metadata
    assert metadata["landing_zone_objects_kept"].value == 1
    assert metadata["landing_zone_objects_deleted"].value == 5
