"""scicat_jobs_sensor against the SciCat fake (v3 and v4); HTTP in test_sensors_over_http.py."""

import pytest
from dagster import asset, build_sensor_context, materialize

from archiver_dagster.automation.intake_sensor import scicat_jobs_sensor
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.scicat.client import SciCatError
from archiver_dagster.tags import JOB_ID_TAG
from archiver_dagster_tests.automation.conftest import resource_for

VERSIONS = pytest.mark.parametrize("version", [3, 4])


def evaluate(instance, resource, cursor=None):
    resources = {"scicat": resource}
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return scicat_jobs_sensor(context)


@asset(partitions_def=datasets_partitions)
def stand_in() -> None:
    """A cheap asset whose runs stand in for the archive runs the daemon would launch."""


def launch_runs(instance, result):
    """Does what the daemon does with a sensor result: add partitions, create the runs."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for run_request in result.run_requests:
        materialize(
            [stand_in],
            instance=instance,
            partition_key=run_request.partition_key,
            tags=run_request.tags,
        )


@VERSIONS
def test_new_job_launches_one_run_per_dataset_then_is_marked_in_progress(
    version, instance, scicat_sim, scicat_user
):
    pids = [scicat_user.dataset("20.500.12345/alpha"), scicat_user.dataset("beta")]
    job_id = scicat_user.job(version, pids)
    resource = resource_for(scicat_sim, version)

    first = evaluate(instance, resource)

    assert sorted(r.partition_key for r in first.run_requests) == sorted(pids)
    assert {r.run_key for r in first.run_requests} == {f"{job_id}:{pid}" for pid in pids}
    for request in first.run_requests:
        assert request.job_name == "archive_dataset_job"
        assert request.tags["scicat/job_id"] == job_id
        assert request.tags["scicat/job_type"] == "archive"
    assert sorted(first.dynamic_partitions_requests[0].partition_keys) == sorted(pids)
    assert scicat_user.status(version, job_id)[0] == "jobSubmitted"  # no runs exist yet

    again = evaluate(instance, resource, first.cursor)
    assert again.run_requests == []  # already requested: the cursor remembers
    launch_runs(instance, first)

    confirmed = evaluate(instance, resource, again.cursor)
    assert confirmed.run_requests == []
    status, message = scicat_user.status(version, job_id)
    assert status == "inProgress"
    assert "2 datasets" in message
    assert job_id not in confirmed.cursor


@VERSIONS
def test_pages_through_all_submitted_jobs(version, instance, scicat_sim, scicat_user):
    pid = scicat_user.dataset("20.500.12345/paged")
    job_ids = [scicat_user.job(version, [pid]) for _ in range(5)]
    scicat_sim.clear_requests()

    result = evaluate(instance, resource_for(scicat_sim, version, jobs_page_size=2))

    assert {r.tags[JOB_ID_TAG] for r in result.run_requests} == set(job_ids)
    listings = [r for r in scicat_sim.requests if r.method == "GET" and "ob" in r.path]
    assert len(listings) == 3 + 1  # archive: pages of 2, 2, 1; retrieve: one empty page


@VERSIONS
def test_invalid_job_is_rejected_and_nothing_runs(version, instance, scicat_sim, scicat_user):
    bad = scicat_user.dataset("20.500.12345/../escape")
    job_id = scicat_user.job(version, [bad])

    result = evaluate(instance, resource_for(scicat_sim, version))

    assert result.run_requests == []
    status, message = scicat_user.status(version, job_id)
    assert status == "finishedUnsuccessful"
    assert "escape" in message and "invalid PID" in message


@VERSIONS
def test_archive_job_naming_a_pid_that_overlaps_another_is_rejected(
    version, instance, scicat_sim, scicat_user
):
    # Its files would share landing-zone keys with dataset `20.500.12345/x`'s files `y/...`.
    nested = scicat_user.dataset("20.500.12345/x/raw_files/y")
    job_id = scicat_user.job(version, [scicat_user.dataset("fine"), nested])

    result = evaluate(instance, resource_for(scicat_sim, version))

    assert result.run_requests == []
    status, message = scicat_user.status(version, job_id)
    assert status == "finishedUnsuccessful"
    assert "invalid PID" in message and "'raw_files' segment" in message


def test_retrieve_job_for_a_pid_archived_before_the_segment_rule_runs(
    instance, scicat_sim, scicat_user
):
    # Archived by the reference (or an earlier release), it must stay retrievable.
    legacy = scicat_user.dataset("20.500.12345/x/datablocks/y")
    scicat_user.job(4, [legacy], job_type="retrieve")

    result = evaluate(instance, resource_for(scicat_sim, 4))

    assert [request.partition_key for request in result.run_requests] == [legacy]


def test_job_naming_a_dataset_twice_is_rejected(instance, scicat_sim, scicat_user):
    pid = scicat_user.dataset("twice")
    job_id = scicat_user.job(4, [pid, pid])

    result = evaluate(instance, resource_for(scicat_sim, 4))

    assert result.run_requests == []
    assert scicat_user.status(4, job_id) == (
        "finishedUnsuccessful",
        "Job rejected: datasetList names a dataset more than once",
    )


@VERSIONS
def test_retrieve_jobs_launch_the_retrieval_job(version, instance, scicat_sim, scicat_user):
    job_id = scicat_user.job(version, [scicat_user.dataset("wanted/back")], job_type="retrieve")

    result = evaluate(instance, resource_for(scicat_sim, version))

    [request] = result.run_requests
    assert request.job_name == "retrieve_dataset_job"
    assert request.partition_key == "wanted/back"
    assert request.tags["scicat/job_type"] == "retrieve"
    assert request.run_key == f"{job_id}:wanted/back"


def test_cursor_survives_a_restart_and_runs_without_cursor_still_confirm(
    instance, scicat_sim, scicat_user
):
    job_id = scicat_user.job(3, [scicat_user.dataset("restart/me")])
    resource = resource_for(scicat_sim, 3)
    first = evaluate(instance, resource)
    launch_runs(instance, first)

    # A daemon that lost its cursor finds the runs by their tags and does not launch again.
    after_restart = evaluate(instance, resource, cursor=None)

    assert after_restart.run_requests == []
    assert scicat_user.status(3, job_id)[0] == "inProgress"


def test_scicat_down_fails_the_tick_and_launches_nothing(instance):
    down = resource_for(type("Down", (), {"url": "http://127.0.0.1:9"})(), 4)
    with pytest.raises(SciCatError, match="unreachable"):
        evaluate(instance, down)
