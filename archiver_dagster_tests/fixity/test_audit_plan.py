"""Which datasets a night's audit takes: due ones, oldest evidence first, within the budget."""

from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.fixity.audit_plan import audit_order, choose_audits

DAY = 86400.0
NOW = 1_000 * DAY


def _choose(ages_days: dict[str, float | None], sizes: dict[str, int], budget: int):
    order = list(ages_days)
    return choose_audits(
        order,
        lambda pid: None if ages_days[pid] is None else NOW - ages_days[pid] * DAY,  # type: ignore[operator]
        sizes.__getitem__,
        NOW,
        90 * DAY,
        budget,
    )


def test_order_is_oldest_evidence_first():
    assert audit_order({"b": 7, "a": 3, "c": 9}) == ["a", "b", "c"]


def test_due_datasets_within_the_budget_and_the_overdue_rest_counted():
    plan = _choose({"a": 200, "b": 120, "c": 95, "d": 10}, {"a": 4, "b": 4, "c": 4, "d": 4}, 9)

    assert plan.chosen == ["a", "b"]
    assert plan.bytes == 8
    assert plan.overdue_left == 1  # c; d was checked 10 days ago


def test_a_dataset_larger_than_the_budget_still_gets_its_turn():
    plan = _choose({"huge": 100, "small": 99}, {"huge": 50, "small": 1}, 10)

    assert plan.chosen == ["huge"]
    assert plan.overdue_left == 1


def test_nothing_due_nothing_chosen():
    plan = _choose({"a": 89.9, "b": 1}, {"a": 1, "b": 1}, 10)

    assert (plan.chosen, plan.bytes, plan.overdue_left) == ([], 0, 0)


@given(
    st.lists(st.tuples(st.floats(0, 400), st.integers(1, 100)), max_size=30),
    st.integers(1, 500),
)
def test_never_over_budget_but_for_one_and_only_due_datasets(items, budget):
    items.sort(key=lambda item: -item[0])  # oldest first, as audit_order gives them
    ages = {f"p{i}": age for i, (age, _) in enumerate(items)}
    sizes = {f"p{i}": size for i, (_, size) in enumerate(items)}

    plan = _choose(ages, sizes, budget)  # type: ignore[arg-type]

    assert plan.bytes <= budget or len(plan.chosen) == 1
    assert all(ages[pid] >= 90 for pid in plan.chosen)
    due = [pid for pid in ages if ages[pid] >= 90]
    assert plan.chosen == due[: len(plan.chosen)]
    assert len(plan.chosen) + plan.overdue_left == len(due)
