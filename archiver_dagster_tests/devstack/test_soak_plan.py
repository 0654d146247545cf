"""The soak's plans (datasets of every shape, faults inside the period) and its instance."""

import itertools
from collections import Counter

from devstack.demo import open_instance, prepare_dagster_home
from devstack.soak.datasets import SHAPES, plan_datasets, split_into_jobs
from devstack.soak.fault_plan import (
    FULL_COUNTS,
    SHORT_COUNTS,
    TRANSIENT_OUTAGE_S,
    FaultKind,
    FaultProfile,
    lane_of,
    plan_faults,
    plan_for,
)
from devstack.soak.session import enable_run_monitoring


def test_short_datasets_have_every_shape_and_a_missing_file():
    plans = plan_datasets(8, seed=1)

    assert {plan.shape for plan in plans} == {shape.name for shape in SHAPES}
    assert sum(1 for plan in plans if plan.missing) >= 1
    assert len({plan.pid for plan in plans}) == 8
    assert plan_datasets(8, seed=1) == plans  # the seed decides everything
    jobs = split_into_jobs(plans, 4)
    assert sorted(pid for job in jobs for pid in job) == sorted(plan.pid for plan in plans)


def test_the_short_plan_has_each_fault_once_inside_the_period():
    plan = plan_faults(100.0, seed=1, counts=SHORT_COUNTS)

    assert Counter(fault.kind for fault in plan) == dict.fromkeys(FaultKind, 1)
    assert all(fault.at_s >= 15.0 and fault.at_s + fault.duration_s <= 75.0 for fault in plan)


def test_faults_of_one_lane_never_overlap():
    plan = plan_faults(300.0, seed=7, counts=FULL_COUNTS)

    assert Counter(fault.kind for fault in plan) == FULL_COUNTS
    for lane in {lane_of(kind) for kind in FaultKind}:
        faults = [fault for fault in plan if lane_of(fault.kind) == lane]
        for first, second in itertools.pairwise(faults):
            assert first.at_s + first.duration_s <= second.at_s


def test_the_transient_profile_is_one_long_outage_and_resets_all_along():
    plan = plan_for(FaultProfile.TRANSIENT, 300.0, seed=3, counts=FULL_COUNTS)

    resets, outage = sorted(plan, key=lambda fault: fault.kind != FaultKind.S3_RESET)
    assert resets.kind is FaultKind.S3_RESET and resets.fraction == 0.05
    assert (resets.at_s, resets.duration_s) == (0.0, 300.0)
    assert outage.kind is FaultKind.SCICAT_OUTAGE and outage.duration_s == TRANSIENT_OUTAGE_S
    assert outage.at_s >= 15.0 and outage.at_s + outage.duration_s <= 300.0
    assert plan_for(FaultProfile.NONE, 300.0, seed=3, counts=FULL_COUNTS) == []
    assert plan_for(FaultProfile.MIXED, 300.0, seed=3, counts=FULL_COUNTS) == plan_faults(
        300.0, seed=3, counts=FULL_COUNTS
    )


def test_run_monitoring_is_added_once_and_read_by_dagster(tmp_path):
    home = prepare_dagster_home(tmp_path / "home")

    assert enable_run_monitoring(home / "dagster.yaml")
    assert not enable_run_monitoring(home / "dagster.yaml")
    with open_instance(home) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 5
