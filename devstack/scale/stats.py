"""Pure figures: percentiles, tick durations per sensor, runs finished in a window."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class TickFigures:
    """Durations of one sensor's ticks during a session."""

    sensor: str
    ticks: int
    max_s: float
    p95_s: float
    median_s: float
    over_10_s: int


def tick_figures(sensor: str, durations: Sequence[float]) -> TickFigures:
    """Summarises one sensor's tick durations."""
    return TickFigures(
        sensor=sensor,
        ticks=len(durations),
        max_s=max(durations, default=math.nan),
        p95_s=percentile(durations, 0.95),
        median_s=percentile(durations, 0.5),
        over_10_s=sum(1 for duration in durations if duration > 10.0),
    )


def finished_in_window(end_times: Iterable[float], start: float, length_s: float) -> int:
    """How many of `end_times` (epoch seconds) fall in [start, start + length_s)."""
    return sum(1 for end in end_times if start <= end < start + length_s)


def per_minute(count: int, length_s: float) -> float:
    """`count` events over `length_s` seconds, per minute."""
    return count * 60.0 / length_s if length_s > 0 else math.nan
