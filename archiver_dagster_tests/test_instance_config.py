"""The repository's `dagster.yaml`, as the demo, the benchmark, the soak and the tests use it."""

from pathlib import Path

from dagster import DagsterEventType, OpExecutionContext, job, op

from devstack.demo import open_instance, prepare_dagster_home


@op
def chatty(context: OpExecutionContext) -> int:
    """Logs one line at each of DEBUG and INFO."""
    context.log.debug("a debug line")
    context.log.info("an info line")
    return 1


@op
def consumer(value: int) -> int:
    """Loads `chatty`'s output through the IO manager."""
    return value + 1


@job
def chatty_job() -> None:
    """Two steps joined by an IO-manager hand-over."""
    consumer(chatty())


def test_the_event_log_keeps_dagster_events_and_info_lines_but_no_debug_lines(
    tmp_path: Path,
) -> None:
    home = prepare_dagster_home(tmp_path / "dagster_home")
    with open_instance(home) as instance:
        result = chatty_job.execute_in_process(instance=instance)
        assert result.success
        records = instance.all_logs(result.run_id)
    messages = [record.user_message for record in records if record.dagster_event is None]
    kinds = {record.dagster_event_type for record in records if record.dagster_event is not None}
    assert messages == ["an info line"]
    assert {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_OUTPUT,
        DagsterEventType.HANDLED_OUTPUT,
        DagsterEventType.LOADED_INPUT,
        DagsterEventType.STEP_SUCCESS,
    } <= kinds


def test_sensors_tick_in_parallel_threads(tmp_path: Path) -> None:
    home = prepare_dagster_home(tmp_path / "dagster_home")
    with open_instance(home) as instance:
        settings = instance.get_settings("sensors")
    assert settings["use_threads"] is True
    assert settings["num_workers"] >= 4  # intake, status, cleanup, alerts
