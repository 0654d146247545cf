"""A large job is launched over several ticks, a bounded number of runs each, losing nothing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.automation.intake import IntakeCursor, fair_shares
from archiver_dagster_tests.automation.conftest import resource_for
from archiver_dagster_tests.automation.test_intake_sensor import evaluate, launch_runs

PER_TICK = 3


def test_runs_are_requested_a_few_per_tick_shared_among_jobs(
    instance, scicat_sim, scicat_user, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_RUNS_PER_TICK", str(PER_TICK))
    large = [scicat_user.dataset(f"20.500.12345/large-{i}") for i in range(7)]
    small = [scicat_user.dataset(f"20.500.12345/small-{i}") for i in range(2)]
    large_job = scicat_user.job(3, large)
    small_job = scicat_user.job(3, small)
    resource = resource_for(scicat_sim, 3)

    first = evaluate(instance, resource)
    # In turn, oldest job first: the small job is not kept waiting behind the large one.
    assert [r.partition_key for r in first.run_requests] == [*large[:2], small[0]]
    assert list(first.dynamic_partitions_requests[0].partition_keys) == sorted(
        [*large[:2], small[0]]
    )
    launch_runs(instance, first)

    second = evaluate(instance, resource, first.cursor)
    # Both have runs: both are in progress while the rest are still being requested.
    assert scicat_user.status(3, large_job)[0] == "inProgress"
    assert scicat_user.status(3, small_job)[0] == "inProgress"
    assert [r.partition_key for r in second.run_requests] == [*large[2:4], small[1]]

    third = evaluate(instance, resource, second.cursor)
    assert [r.partition_key for r in third.run_requests] == large[4:7]

    fourth = evaluate(instance, resource, third.cursor)
    assert fourth.run_requests == []
    assert IntakeCursor.parse(fourth.cursor).launching == {}
    requested = [r for tick in (first, second, third) for r in tick.run_requests]
    assert len({r.run_key for r in requested}) == len(large) + len(small)
    assert {r.tags["scicat/job_id"] for r in requested if r.partition_key in small} == {small_job}


@pytest.mark.parametrize(
    ("remaining", "budget", "shares"),
    [
        ([7, 2], 3, [2, 1]),
        ([5, 1, 1], 10, [5, 1, 1]),
        ([200] + [10] * 10, 10, [1] * 10 + [0]),
        ([0, 4], 3, [0, 3]),
        ([], 10, []),
    ],
)
def test_fair_shares_give_every_job_a_run_before_any_gets_a_second(remaining, budget, shares):
    assert fair_shares(remaining, budget) == shares


@given(st.lists(st.integers(0, 50), max_size=12), st.integers(0, 100))
def test_fair_shares_spend_the_budget_and_never_exceed_what_is_left(remaining, budget):
    shares = fair_shares(remaining, budget)
    assert sum(shares) == min(budget, sum(remaining))
    assert all(0 <= share <= left for share, left in zip(shares, remaining, strict=True))
    # No job gets two more than another that still had runs left.
    open_shares = [s for s, left in zip(shares, remaining, strict=True) if s < left]
    assert all(share <= min(open_shares, default=share) + 1 for share in shares)


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
