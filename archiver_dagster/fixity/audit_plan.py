"""Which archived datasets a night's fixity audit re-reads: due ones, oldest evidence first.

No Dagster here: the schedule (`audit_schedule.py`) gives the order and the lookups.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class AuditPlan:
    """The datasets chosen for tonight, their bytes, and what is left overdue."""

    chosen: list[str] = field(default_factory=list)
    bytes: int = 0
    overdue_left: int = 0


def audit_order(last_fixity_ids: Mapping[str, int]) -> list[str]:
    """Datasets by their last fixity evidence, oldest first (event storage ids grow with time)."""
    return sorted(last_fixity_ids, key=lambda pid: (last_fixity_ids[pid], pid))


def choose_audits(
    order: list[str],
    last_fixity_time: Callable[[str], float | None],
    size_of: Callable[[str], int],
    now: float,
    period_s: float,
    budget_bytes: int,
) -> AuditPlan:
    """The oldest-checked datasets whose last check is at least `period_s` old, within budget.

    A dataset larger than the whole budget is taken when it comes first, so that every dataset
    is audited eventually; after the budget is spent, the overdue datasets left are counted
    (the order is oldest first, so counting stops at the first one not yet due).
    """
    plan = AuditPlan()
    full = False
    for pid in order:
        checked = last_fixity_time(pid)
        if checked is not None and now - checked < period_s:
            break  # this and every later dataset were checked within the period
        if full:
            plan.overdue_left += 1
            continue
        size = size_of(pid)
        if plan.chosen and plan.bytes + size > budget_bytes:
            full = True
            plan.overdue_left += 1
            continue
        plan.chosen.append(pid)
        plan.bytes += size
    return plan
