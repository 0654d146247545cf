"""The soak's fault schedule: which faults, when, for how long; and what each injected.

Faults run in four lanes that overlap one another: SciCat (outages, 5xx bursts), S3 (503
bursts, mid-transfer resets), processes (run-worker kills, the daemon restart) and the LTS
(full). Within a lane faults follow one another, so each one's effect is counted alone.
"""

import random
from enum import StrEnum

from pydantic import BaseModel


class FaultProfile(StrEnum):
    """Which faults a soak injects."""

    MIXED = "mixed"  # every kind, in overlapping lanes (FULL_COUNTS, or each once when short)
    TRANSIENT = "transient"  # a 60 s SciCat outage and 5 % of S3 responses reset throughout
    NONE = "none"  # the baseline the others are compared with


class FaultKind(StrEnum):
    """A kind of fault the soak injects."""

    SCICAT_OUTAGE = "scicat_outage"
    SCICAT_5XX = "scicat_5xx"
    S3_503 = "s3_503"
    S3_RESET = "s3_reset"
    RUN_WORKER_KILL = "run_worker_kill"
    DAEMON_RESTART = "daemon_restart"
    LTS_FULL = "lts_full"


LANES: dict[str, tuple[FaultKind, ...]] = {
    "scicat": (FaultKind.SCICAT_OUTAGE, FaultKind.SCICAT_5XX),
    "s3": (FaultKind.S3_503, FaultKind.S3_RESET),
    "processes": (FaultKind.RUN_WORKER_KILL, FaultKind.DAEMON_RESTART),
    "lts": (FaultKind.LTS_FULL,),
}
# How long a window lasts (seconds, drawn uniformly); kinds without are instantaneous.
WINDOWS: dict[FaultKind, tuple[float, float]] = {
    FaultKind.SCICAT_OUTAGE: (15.0, 35.0),  # longer than a SciCat call's 25 s budget at times
    FaultKind.S3_503: (3.0, 12.0),
    FaultKind.S3_RESET: (10.0, 25.0),
    FaultKind.LTS_FULL: (20.0, 40.0),  # longer than the soak's 10 s free-space timeout
}
FULL_COUNTS: dict[FaultKind, int] = {
    FaultKind.SCICAT_OUTAGE: 2,
    FaultKind.SCICAT_5XX: 6,
    FaultKind.S3_503: 4,
    FaultKind.S3_RESET: 3,
    FaultKind.RUN_WORKER_KILL: 4,
    FaultKind.DAEMON_RESTART: 1,
    FaultKind.LTS_FULL: 2,
}
SHORT_COUNTS: dict[FaultKind, int] = dict.fromkeys(FaultKind, 1)
FIRST_FAULT_S = 15.0  # the first runs start about 10 s after the first job
TRANSIENT_OUTAGE_S = 60.0
TRANSIENT_RESET_FRACTION = 0.05
LAST_FAULT_TAIL_S = 25.0  # faults end this long before the period does (windows may go on)


class PlannedFault(BaseModel):
    """One fault: its kind, when it starts (seconds after the first job) and how long it lasts."""

    kind: FaultKind
    at_s: float
    duration_s: float = 0.0
    fraction: float | None = None  # of the responses reset (S3_RESET); None: the runner's own


class FaultTally(BaseModel):
    """What one kind of fault did: times injected, seconds active, requests or runs hit."""

    kind: FaultKind
    planned: int = 0
    injected: int = 0
    seconds: float = 0.0
    hits: int = 0  # requests refused, connections reset, run workers killed
    notes: list[str] = []


def plan_faults(
    duration_s: float,
    seed: int,
    counts: dict[FaultKind, int],
    first_s: float = FIRST_FAULT_S,
    tail_s: float = LAST_FAULT_TAIL_S,
) -> list[PlannedFault]:
    """Spreads the faults of each lane over [first_s, duration_s - tail_s), in a seeded order.

    Jobs are submitted until late in the period and their runs take a while: faults in the
    last `tail_s` seconds would meet an archiver with nothing left to do.
    """
    rng = random.Random(seed)
    planned: list[PlannedFault] = []
    for kinds in LANES.values():
        lane = [kind for kind in kinds for _ in range(counts.get(kind, 0))]
        rng.shuffle(lane)
        if not lane:
            continue
        slot = max(duration_s - tail_s - first_s, 1.0) / len(lane)
        for index, kind in enumerate(lane):
            at_s = first_s + index * slot + rng.uniform(0.0, 0.2 * slot)
            low, high = WINDOWS.get(kind, (0.0, 0.0))
            duration = min(rng.uniform(low, high), 0.7 * slot) if high else 0.0
            planned.append(
                PlannedFault(kind=kind, at_s=round(at_s, 1), duration_s=round(duration, 1))
            )
    return sorted(planned, key=lambda fault: fault.at_s)


def lane_of(kind: FaultKind) -> str:
    """The lane a kind of fault runs in."""
    return next(name for name, kinds in LANES.items() if kind in kinds)


def plan_transient(
    duration_s: float, seed: int, first_s: float = FIRST_FAULT_S
) -> list[PlannedFault]:
    """The transient profile: 5 % of S3 responses reset all along, and one SciCat outage.

    The outage lasts `TRANSIENT_OUTAGE_S` and starts within the first third of the room left.
    """
    rng = random.Random(seed)
    room = max(duration_s - first_s - TRANSIENT_OUTAGE_S, 0.0)
    return [
        PlannedFault(
            kind=FaultKind.S3_RESET,
            at_s=0.0,
            duration_s=duration_s,
            fraction=TRANSIENT_RESET_FRACTION,
        ),
        PlannedFault(
            kind=FaultKind.SCICAT_OUTAGE,
            at_s=round(first_s + rng.uniform(0.0, room / 3), 1),
            duration_s=TRANSIENT_OUTAGE_S,
        ),
    ]


def plan_for(
    profile: FaultProfile, duration_s: float, seed: int, counts: dict[FaultKind, int]
) -> list[PlannedFault]:
    """The faults of `profile` over a period of `duration_s`."""
    if profile is FaultProfile.TRANSIENT:
        return plan_transient(duration_s, seed)
    if profile is FaultProfile.NONE:
        return []
    return plan_faults(duration_s, seed, counts)
