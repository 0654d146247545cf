"""The sensors against the SciCat simulator over real HTTP: one test of each behaviour (layer 3).

The sensor tests run against the in-memory fake. The tests named here run again with
`scicat_sim` the HTTP simulator and `scicat_user` posting over HTTP, so that each kind of request
the sensors send and each answer they read crosses a socket and is checked against the SDK
(`scicat_contract.py`): job listings (v3 `fullquery`, v4 `filter`) page by page, job reads,
status updates (a retrieve job's with its result and links), an update SciCat refuses, and a
listing holding a job the archiver cannot read.
"""

from collections.abc import Iterator

import pytest

from archiver_dagster_tests.automation import (
    test_intake_sensor,
    test_job_faults,
    test_status_sensor,
)
from archiver_dagster_tests.automation.conftest import PASSWORD, USER, SciCatUser
from devstack.scicat_sim import SciCatSimulator


@pytest.fixture
def scicat_sim() -> Iterator[SciCatSimulator]:
    """A simulator serving over HTTP on 127.0.0.1, fresh for each test."""
    with SciCatSimulator(users={USER: PASSWORD}) as sim:
        yield sim


@pytest.fixture
def scicat_user(scicat_sim: SciCatSimulator) -> SciCatUser:
    return SciCatUser(scicat_sim)


test_intake_launches_runs_then_marks_the_job_in_progress = (
    test_intake_sensor.test_new_job_launches_one_run_per_dataset_then_is_marked_in_progress
)
test_intake_pages_through_submitted_jobs = test_intake_sensor.test_pages_through_all_submitted_jobs
test_status_of_a_job_whose_datasets_all_archived = (
    test_status_sensor.test_all_datasets_archived_is_finished_successful
)
test_status_of_a_retrieve_job_with_its_links = (
    test_status_sensor.test_finished_retrieve_job_is_reported_in_the_sdk_update_shape
)
test_refused_job_update_is_backed_off = (
    test_job_faults.test_job_scicat_refuses_to_update_is_backed_off_and_the_others_go_on
)
test_unreadable_job_in_a_listing_is_skipped = (
    test_job_faults.test_job_without_id_is_skipped_and_the_others_launch
)
