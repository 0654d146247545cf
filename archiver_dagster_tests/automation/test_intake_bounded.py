"""A large job is launched over several ticks, a bounded number of runs each, losing nothing."""

from archiver_dagster.automation.intake import IntakeCursor
from archiver_dagster_tests.automation.conftest import resource_for
from archiver_dagster_tests.automation.test_intake_sensor import evaluate, launch_runs

PER_TICK = 3


def test_runs_are_requested_a_few_per_tick_oldest_job_first(
    instance, scicat_sim, scicat_user, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_RUNS_PER_TICK", str(PER_TICK))
    large = [scicat_user.dataset(f"20.500.12345/large-{i}") for i in range(7)]
    small = [scicat_user.dataset(f"20.500.12345/small-{i}") for i in range(2)]
    large_job = scicat_user.job(3, large)
    small_job = scicat_user.job(3, small)
    resource = resource_for(scicat_sim, 3)

    first = evaluate(instance, resource)
    assert [r.partition_key for r in first.run_requests] == large[:3]
    assert list(first.dynamic_partitions_requests[0].partition_keys) == large[:3]
    launch_runs(instance, first)

    second = evaluate(instance, resource, first.cursor)
    # The first runs exist: the job is in progress while the rest are still being requested.
    assert scicat_user.status(3, large_job)[0] == "inProgress"
    assert scicat_user.status(3, small_job)[0] == "jobSubmitted"
    assert [r.partition_key for r in second.run_requests] == large[3:6]

    third = evaluate(instance, resource, second.cursor)
    assert [r.partition_key for r in third.run_requests] == [large[6], *small]

    fourth = evaluate(instance, resource, third.cursor)
    assert fourth.run_requests == []
    assert IntakeCursor.parse(fourth.cursor).launching == {}
    requested = [r for tick in (first, second, third) for r in tick.run_requests]
    assert len({r.run_key for r in requested}) == len(large) + len(small)
    assert {r.tags["scicat/job_id"] for r in requested if r.partition_key in small} == {small_job}


def test_a_tick_whose_cursor_was_lost_requests_the_same_runs_again(
    instance, scicat_sim, scicat_user, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_RUNS_PER_TICK", str(PER_TICK))
    pids = [scicat_user.dataset(f"20.500.12345/again-{i}") for i in range(5)]
    scicat_user.job(4, pids)
    resource = resource_for(scicat_sim, 4)
    first = evaluate(instance, resource)

    second = evaluate(instance, resource, first.cursor)
    repeated = evaluate(instance, resource, first.cursor)  # the daemon died before saving

    assert [r.run_key for r in repeated.run_requests] == [r.run_key for r in second.run_requests]
    assert [r.partition_key for r in second.run_requests] == pids[3:]
