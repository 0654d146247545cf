"""One bad SciCat job never blocks the others; a finished job set back to submitted runs again."""

import pytest

from archiver_dagster.automation.intake import IntakeCursor
from archiver_dagster.automation.status_sensor import StatusCursor
from archiver_dagster.scicat.job_api import JobStatus, update_job
from archiver_dagster_tests.automation.conftest import resource_for
from archiver_dagster_tests.automation.test_intake_sensor import evaluate, launch_runs
from archiver_dagster_tests.automation.test_status_sensor import (
    LINKING_BUCKET,
    register_datablock,
    run_for_job,
)
from archiver_dagster_tests.automation.test_status_sensor import evaluate as evaluate_status

VERSIONS = pytest.mark.parametrize("version", [3, 4])


def listing_path(version: int) -> str:
    return "/Jobs/fullquery" if version == 3 else "/api/v4/jobs"


def rewrite_job(job_id: str, change):
    """Rewrites the listing's entry of one job, as a backend holding a broken job would answer."""
    return lambda jobs: [change(dict(job)) if job.get("id") == job_id else job for job in jobs]


def without_id(job: dict) -> dict:
    return {key: value for key, value in job.items() if key != "id"}


def malformed_list(job: dict) -> dict:
    if "jobParams" in job and "datasetList" in job["jobParams"]:
        return job | {"jobParams": job["jobParams"] | {"datasetList": "not a list"}}
    return job | {"datasetList": "not a list"}


@VERSIONS
def test_job_without_id_is_skipped_and_the_others_launch(
    version, instance, scicat_sim, scicat_user, capfd
):
    bad = scicat_user.job(version, [scicat_user.dataset("a/bad")])
    good = scicat_user.job(version, [scicat_user.dataset("a/good")])

    with scicat_sim.answers_rewritten("GET", listing_path(version), rewrite_job(bad, without_id)):
        result = evaluate(instance, resource_for(scicat_sim, version))

    assert [request.tags["scicat/job_id"] for request in result.run_requests] == [good]
    logged = capfd.readouterr().err
    assert "cannot read" in logged and "id: Field required" in logged


@VERSIONS
def test_job_scicat_refuses_to_update_is_backed_off_and_the_others_go_on(
    version, instance, scicat_sim, scicat_user
):
    bad = scicat_user.job(version, [scicat_user.dataset("b/bad")])
    good = scicat_user.job(version, [scicat_user.dataset("b/good")])
    scicat_sim.fail_next(100, status=403, path_contains=bad, method="PATCH")
    resource = resource_for(scicat_sim, version)

    with scicat_sim.answers_rewritten(
        "GET", listing_path(version), rewrite_job(bad, malformed_list)
    ):
        first = evaluate(instance, resource)
        assert [r.tags["scicat/job_id"] for r in first.run_requests] == [good]
        state = IntakeCursor.parse(first.cursor).backoff[bad]
        assert state.attempts == 1 and "answered 403" in state.last_error
        scicat_sim.clear_requests()
        second = evaluate(instance, resource, first.cursor)  # not yet due: left alone
        assert not [r for r in scicat_sim.requests if r.method == "PATCH" and bad in r.path]

        due_now = IntakeCursor.parse(second.cursor)
        due_now.backoff[bad].retry_at = 0.0
        scicat_sim.clear_faults()
        evaluate(instance, resource, due_now.model_dump_json())

    assert scicat_user.status(version, bad)[0] == "finishedUnsuccessful"


def test_job_scicat_refuses_to_finish_does_not_hold_up_the_others(
    instance, scicat_sim, scicat_user
):
    jobs = [scicat_user.job(4, [scicat_user.dataset(f"c/{name}")]) for name in ("bad", "good")]
    with resource_for(scicat_sim, 4).tick_session() as client:
        for job_id, name in zip(jobs, ("bad", "good"), strict=True):
            update_job(client, job_id, JobStatus.IN_PROGRESS, "started")
            run_for_job(instance, job_id, f"c/{name}")
    scicat_sim.fail_next(100, status=400, path_contains=jobs[0], method="PATCH")

    cursor = evaluate_status(instance, resource_for(scicat_sim, 4))

    assert scicat_user.status(4, jobs[1])[0] == "finishedSuccessful"
    assert scicat_user.status(4, jobs[0])[0] == "inProgress"
    assert StatusCursor.parse(cursor).backoff[jobs[0]].attempts == 1
    scicat_sim.clear_faults()


def test_retrieve_job_reports_links_of_the_datasets_that_still_exist(
    instance, scicat_sim, scicat_user
):
    pids = [scicat_user.dataset("d/kept"), scicat_user.dataset("d/deleted")]
    job_id = scicat_user.job(4, pids, job_type="retrieve")
    with resource_for(scicat_sim, 4).tick_session() as client:
        update_job(client, job_id, JobStatus.IN_PROGRESS, "started")
        for pid in pids:
            register_datablock(client, pid)
            run_for_job(instance, job_id, pid, job_type="retrieve")
    scicat_sim.fail_next(100, status=404, path_contains="d/deleted/datablocks", method="GET")

    evaluate_status(instance, resource_for(scicat_sim, 4), bucket=LINKING_BUCKET)
    scicat_sim.clear_faults()

    assert scicat_user.status(4, job_id)[0] == "finishedSuccessful"
    stored = scicat_sim.job(job_id)
    assert [entry["datasetId"] for entry in stored["jobResultObject"]["result"]] == ["d/kept"]


@pytest.mark.parametrize("version", [3, 4])
def test_finished_job_set_back_to_submitted_runs_again_with_new_run_keys(
    version, instance, scicat_sim, scicat_user
):
    pid = scicat_user.dataset("e/again")
    job_id = scicat_user.job(version, [pid])
    resource = resource_for(scicat_sim, version)
    first = evaluate(instance, resource)
    launch_runs(instance, first)
    evaluate(instance, resource, first.cursor)  # confirmed inProgress
    evaluate_status(instance, resource)
    assert scicat_user.status(version, job_id)[0] == "finishedSuccessful"

    with resource.tick_session() as client:
        update_job(client, job_id, JobStatus.SUBMITTED, "set back by an operator")
    again = evaluate(instance, resource, IntakeCursor().model_dump_json())

    [request] = again.run_requests
    assert request.run_key == f"{job_id}:{pid}:attempt-2"
    assert request.tags["scicat/job_attempt"] == "2"
    launch_runs(instance, again)
    evaluate(instance, resource, again.cursor)
    assert scicat_user.status(version, job_id)[0] == "inProgress"
    evaluate_status(instance, resource)
    assert scicat_user.status(version, job_id)[0] == "finishedSuccessful"
