"""scicat_job_status_sensor: real runs, job status in the SciCat fake (HTTP: *_over_http.py)."""

import os
from pathlib import Path

import pytest
from dagster import (
    AssetExecutionContext,
    Definitions,
    ReexecutionOptions,
    asset,
    build_sensor_context,
    define_asset_job,
    execute_job,
    in_process_executor,
    reconstructable,
)
from dagster_aws.s3 import S3Resource
from scicat_sdk_py.models import UpdateJobDto, UpdateJobDtoV3

from archiver_dagster.automation.status_sensor import scicat_job_status_sensor
from archiver_dagster.errors import ArchiverSystemError, MissingFilesError, failure_from
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.scicat.job_api import JobStatus, update_job
from archiver_dagster.scicat.models import CreateDatablock, DataFile
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster.tags import job_run_tags
from archiver_dagster_tests.automation.conftest import resource_for

FAIL_MARKER_ENV = "ARCHIVER_TEST_FAIL_MARKER"
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@asset(partitions_def=datasets_partitions)
def outcome(context: AssetExecutionContext) -> None:
    """Succeeds, or fails as its PID says (user-error, system-error) or while a marker exists."""
    pid = context.partition_key
    if "user-error" in pid:
        raise failure_from(MissingFilesError(f"{pid}: 1 of 2 files missing"))
    marker = os.environ.get(FAIL_MARKER_ENV)
    if "system-error" in pid or (marker and Path(marker).exists()):
        raise failure_from(ArchiverSystemError(f"{pid}: LTS unreachable"))


def outcome_job():
    """The job the tests launch, reconstructable for execute_job and re-execution."""
    job = define_asset_job("outcome_job", selection=[outcome], executor_def=in_process_executor)
    return Definitions(assets=[outcome], jobs=[job]).resolve_job_def("outcome_job")


def run_for_job(instance, job_id, pid, job_type="archive", **options):
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    tags = {**job_run_tags(job_id, job_type), "dagster/partition": pid}
    with execute_job(
        reconstructable(outcome_job), instance, tags=tags, run_config=QUIET, **options
    ) as result:
        return result.run_id, result.success


# Archive jobs never touch the retrieval bucket: an unreachable one proves it.
UNUSED_BUCKET = RetrievalBucketResource(
    s3=S3Resource(endpoint_url="http://127.0.0.1:9"), bucket="unused"
)


# Presigned links are signed locally: the bucket's endpoint is never contacted.
LINKING_BUCKET = RetrievalBucketResource(
    s3=S3Resource(
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="key-id",
        aws_secret_access_key="secret",
    ),
    bucket="retrieval",
)


def register_datablock(client, pid: str) -> CreateDatablock:
    """Registers one datablock of `pid`, as an archival would have; returns what was sent."""
    block = CreateDatablock(
        archiveId=f"openem-network/datasets/{pid}/datablocks/x_0.tar",
        size=3,
        packedSize=10240,
        chkAlg="md5",
        version="1.0",
        dataFileList=[DataFile(path="raw/a", size=3, time="2026-01-01T00:00:00Z")],
    )
    client.create_datablock(pid, block)
    return block


def evaluate(instance, resource, cursor=None, bucket=UNUSED_BUCKET):
    resources = {"scicat": resource, "retrieval_bucket": bucket}
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        scicat_job_status_sensor(context)
        return context.cursor


def job_in_progress(scicat_user, scicat_sim, version, pids):
    job_id = scicat_user.job(version, [scicat_user.dataset(pid) for pid in pids])
    with resource_for(scicat_sim, version).tick_session() as client:
        update_job(client, job_id, JobStatus.IN_PROGRESS, "started")
    return job_id


@pytest.mark.parametrize("version", [3, 4])
def test_all_datasets_archived_is_finished_successful(version, instance, scicat_sim, scicat_user):
    pids = ["20.500.1/ok-a", "ok-b"]
    job_id = job_in_progress(scicat_user, scicat_sim, version, pids)
    for pid in pids:
        run_for_job(instance, job_id, pid)

    evaluate(instance, resource_for(scicat_sim, version))

    status, message = scicat_user.status(version, job_id)
    assert status == "finishedSuccessful"
    assert message == "archive of 2 datasets succeeded"


@pytest.mark.parametrize("version", [3, 4])
def test_user_errors_only_is_finished_with_dataset_errors(
    version, instance, scicat_sim, scicat_user
):
    pids = ["20.500.1/fine", "20.500.1/user-error"]
    job_id = job_in_progress(scicat_user, scicat_sim, version, pids)
    for pid in pids:
        run_for_job(instance, job_id, pid)

    evaluate(instance, resource_for(scicat_sim, version))

    status, message = scicat_user.status(version, job_id)
    assert status == "finishedWithDatasetErrors"
    assert message.startswith("1 of 2 datasets failed: 20.500.1/user-error: user error:")
    assert "files missing" in message


def test_any_system_error_is_finished_unsuccessful(instance, scicat_sim, scicat_user):
    pids = ["a/user-error", "b/system-error", "c/fine"]
    job_id = job_in_progress(scicat_user, scicat_sim, 4, pids)
    for pid in pids:
        run_for_job(instance, job_id, pid)

    evaluate(instance, resource_for(scicat_sim, 4))

    status, message = scicat_user.status(4, job_id)
    assert status == "finishedUnsuccessful"
    assert "2 of 3 datasets failed" in message
    assert "b/system-error: system error: b/system-error: LTS unreachable" in message


def test_canceled_run_finishes_its_job_unsuccessfully(instance, scicat_sim, scicat_user):
    job_id = job_in_progress(scicat_user, scicat_sim, 4, ["fine", "canceled"])
    run_for_job(instance, job_id, "fine")
    instance.add_dynamic_partitions(datasets_partitions.name, ["canceled"])
    tags = {**job_run_tags(job_id, "archive"), "dagster/partition": "canceled"}
    canceled = instance.create_run_for_job(outcome_job(), tags=tags, status="STARTED")
    instance.report_run_canceled(canceled)

    evaluate(instance, resource_for(scicat_sim, 4))

    status, message = scicat_user.status(4, job_id)
    assert status == "finishedUnsuccessful"
    assert message == "1 of 2 datasets failed: canceled: system error: run canceled by an operator"


@pytest.mark.parametrize("count", [6, 40])
def test_failure_message_names_the_first_datasets_and_counts_the_rest(
    count, instance, scicat_sim, scicat_user
):
    pids = [f"20.500.1/system-error-{index:02d}" for index in range(count)]
    job_id = job_in_progress(scicat_user, scicat_sim, 4, pids)
    for pid in pids:
        run_for_job(instance, job_id, pid)

    evaluate(instance, resource_for(scicat_sim, 4))

    status, message = scicat_user.status(4, job_id)
    assert status == "finishedUnsuccessful"
    assert message.startswith(f"{count} of {count} datasets failed: ")
    assert message.count("LTS unreachable") == 5
    assert message.endswith(f"; and {count - 5} more")


def test_job_waits_until_every_dataset_has_finished(instance, scicat_sim, scicat_user):
    job_id = job_in_progress(scicat_user, scicat_sim, 4, ["first", "second"])
    run_for_job(instance, job_id, "first")
    resource = resource_for(scicat_sim, 4)

    cursor = evaluate(instance, resource)
    assert scicat_user.status(4, job_id)[0] == "inProgress"
    assert job_id in cursor  # pending: checked again on the next tick

    run_for_job(instance, job_id, "second")
    evaluate(instance, resource, cursor)
    assert scicat_user.status(4, job_id)[0] == "finishedSuccessful"


def test_job_not_yet_marked_in_progress_is_not_finished(instance, scicat_sim, scicat_user):
    job_id = scicat_user.job(4, [scicat_user.dataset("quick")])
    run_for_job(instance, job_id, "quick")

    cursor = evaluate(instance, resource_for(scicat_sim, 4))

    assert scicat_user.status(4, job_id)[0] == "jobSubmitted"
    assert job_id in cursor


def test_successful_reexecution_updates_the_job_again(
    instance, scicat_sim, scicat_user, tmp_path, monkeypatch
):
    marker = tmp_path / "fail"
    marker.touch()
    monkeypatch.setenv(FAIL_MARKER_ENV, str(marker))
    job_id = job_in_progress(scicat_user, scicat_sim, 3, ["flaky/one"])
    failed_run, success = run_for_job(instance, job_id, "flaky/one")
    assert not success
    resource = resource_for(scicat_sim, 3)
    cursor = evaluate(instance, resource)
    assert scicat_user.status(3, job_id)[0] == "finishedUnsuccessful"

    marker.unlink()  # the operator fixed the LTS and re-executes the failed run
    # Re-executions keep the partition but need not carry our SciCat tags: the sensor follows
    # them through Dagster's root-run tag.
    with execute_job(
        reconstructable(outcome_job),
        instance,
        run_config=QUIET,
        tags={"dagster/partition": "flaky/one"},
        reexecution_options=ReexecutionOptions.from_failure(failed_run, instance),
    ) as rerun:
        assert rerun.success
    evaluate(instance, resource, cursor)

    assert scicat_user.status(3, job_id) == (
        "finishedSuccessful",
        "archive of 1 datasets succeeded",
    )
    # The re-execution now shows its SciCat job in the UI too.
    assert instance.get_run_by_id(rerun.run_id).tags["scicat/job_id"] == job_id


@pytest.mark.parametrize("version", [3, 4])
def test_finished_retrieve_job_is_reported_in_the_sdk_update_shape(
    version, instance, scicat_sim, scicat_user
):
    pid = "20.500.1/retrieved"
    job_id = scicat_user.job(version, [scicat_user.dataset(pid)], job_type="retrieve")
    with resource_for(scicat_sim, version).tick_session() as client:
        update_job(client, job_id, JobStatus.IN_PROGRESS, "started")
        block = register_datablock(client, pid)
    run_for_job(instance, job_id, pid, job_type="retrieve")
    scicat_sim.clear_requests()

    evaluate(instance, resource_for(scicat_sim, version), bucket=LINKING_BUCKET)

    [patch] = [r for r in scicat_sim.requests if r.method == "PATCH"]
    if version == 4:
        update = UpdateJobDto.from_dict(patch.body)
        status, message = update.status_code, update.status_message
    else:
        update = UpdateJobDtoV3.from_dict(patch.body)
        status, message = update.job_status_message, update.job_result_object["message"]
    assert set(patch.body) <= set(type(update).model_json_schema()["properties"])
    assert (status, message) == ("finishedSuccessful", "retrieve of 1 datasets succeeded")
    [entry] = update.job_result_object["result"]
    assert entry.pop("url").startswith(f"http://127.0.0.1:9/retrieval/{block.archive_id}?")
    assert entry == {
        "datasetId": pid,
        "name": "x_0.tar",
        "size": 10240,
        "archiveId": block.archive_id,
    }
    assert scicat_user.status(version, job_id) == (status, message)
