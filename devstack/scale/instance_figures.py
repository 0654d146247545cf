"""What the Dagster instance recorded during a session: sensor ticks and runs."""

from dataclasses import dataclass

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.scheduler.instigation import InstigatorType

from archiver_dagster.tags import JOB_ID_TAG
from devstack.scale.stats import TickFigures, tick_figures

FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


def sensor_ticks(instance: DagsterInstance, after: float) -> list[TickFigures]:
    """Max, p95 and median tick duration of every sensor, over ticks that began after `after`."""
    figures = []
    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    for state in sorted(states, key=lambda state: state.instigator_name):
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after)
        durations = [
            tick.end_timestamp - tick.timestamp for tick in ticks if tick.end_timestamp is not None
        ]
        figures.append(tick_figures(state.instigator_name, durations))
    return figures


def runs_of_job(instance: DagsterInstance, job_id: str) -> int:
    """How many runs the SciCat job has in the instance (queued or later)."""
    return instance.get_runs_count(filters=RunsFilter(tags={JOB_ID_TAG: job_id}))


@dataclass(frozen=True)
class RunTimes:
    """Creation times of a job's runs; end times of every succeeded and failed run (epoch s)."""

    job_created: list[float]
    succeeded: list[float]
    failed: list[float]


def run_times(instance: DagsterInstance, job_id: str) -> RunTimes:
    """The creation times of `job_id`'s runs and the end of every finished run."""
    created = [
        record.create_timestamp.timestamp()
        for record in instance.get_run_records(filters=RunsFilter(tags={JOB_ID_TAG: job_id}))
    ]
    ended = [
        (record.end_time, record.dagster_run.status is DagsterRunStatus.SUCCESS)
        for record in instance.get_run_records(filters=RunsFilter(statuses=FINISHED))
        if record.end_time is not None
    ]
    return RunTimes(
        job_created=created,
        succeeded=[end for end, ok in ended if ok],
        failed=[end for end, ok in ended if not ok],
    )
