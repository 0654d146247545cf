"""How a failed or canceled dataset run went wrong: who has to act, and a bounded message."""

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus

from archiver_dagster.errors import ErrorKind, bounded_list, classify_step_failures
from archiver_dagster.tags import MAX_RUNTIME_TAG

CANCELED_BY_OPERATOR = "run canceled by an operator"
# What the code server logs when a run's process dies (dagster._utils.get_run_crash_explanation).
CRASH_MARKERS = ("was terminated by signal", "unexpectedly exited with code")


def _run_event_message(instance: DagsterInstance, run: DagsterRun, kind: DagsterEventType) -> str:
    records = instance.get_records_for_run(run.run_id, of_type=kind, limit=1).records
    if not records:
        return ""
    entry = records[0].event_log_entry
    event = entry.dagster_event
    return (event.message if event is not None else None) or entry.user_message or ""


def cancel_reason(instance: DagsterInstance, run: DagsterRun) -> str:
    """Why a run was canceled: its maximum run time, else an operator."""
    limit = run.tags.get(MAX_RUNTIME_TAG)
    record = instance.get_run_record_by_id(run.run_id)
    start = record.start_time if record else None
    end = record.end_time if record else None
    if limit and start is not None and end is not None and end - start >= float(limit):
        return f"run canceled after exceeding its maximum run time of {limit} s"
    return CANCELED_BY_OPERATOR


def describe_failure(instance: DagsterInstance, run: DagsterRun) -> tuple[ErrorKind, str]:
    """The error kind and message of a finished, unsuccessful run.

    Step failures say what went wrong and whether the owner or the operators must act. A
    canceled run, and a run that died without a step failure (a killed run worker, say), are
    system errors described by their cancellation or run failure.
    """
    events = [
        entry.dagster_event
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
        if entry.dagster_event is not None
    ]
    kind, messages = classify_step_failures(events)
    if run.status == DagsterRunStatus.CANCELED:
        return ErrorKind.SYSTEM, bounded_list([cancel_reason(instance, run), *messages])
    if messages:
        return kind, bounded_list(messages)
    crash = crash_explanation(instance, run)
    reason = crash or _run_event_message(instance, run, DagsterEventType.RUN_FAILURE)
    return ErrorKind.SYSTEM, reason or "run failed before any step"


def crash_explanation(instance: DagsterInstance, run: DagsterRun) -> str | None:
    """How the run's worker process died, as the code server logged it (killed, crashed)."""
    for entry in reversed(instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)):
        message = entry.message or ""
        if CRASH_MARKERS[0] in message or CRASH_MARKERS[1] in message:
            return message.split(". This usually")[0].rstrip(".") + "."
    return None
