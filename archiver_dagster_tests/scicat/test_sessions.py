"""SciCat clients live for one step or one sensor tick and are closed however it ends."""

import logging

import pytest
from dagster import build_sensor_context

from archiver_dagster.automation.intake_sensor import scicat_jobs_sensor
from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.errors import DatasetNotFoundError, SciCatError
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.transient import RetryObserver
from archiver_dagster_tests.helpers import archive
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack

LOG = logging.getLogger(__name__)

# The SciCat steps of an archival: origdatablocks, plan_datablock_packing, register_datablocks,
# finalize_archival.
ARCHIVAL_SCICAT_STEPS = 4


def recording(endpoint: str, **fields: object) -> tuple[SciCatResource, list[SciCatClient]]:
    """A SciCat resource that keeps every client it builds, to see whether each was closed."""
    built: list[SciCatClient] = []

    class RecordingSciCatResource(SciCatResource):
        def _build(
            self, retries: int, call_budget_s: float, on_retry: RetryObserver | None
        ) -> SciCatClient:
            client = super()._build(retries, call_budget_s, on_retry)
            built.append(client)
            return client

    resource = RecordingSciCatResource(
        endpoint=endpoint, username=SCICAT_USER, password=SCICAT_PASSWORD, backoff_s=0.01, **fields
    )
    return resource, built


def logins(stack: LocalStack) -> int:
    return sum(request.path.endswith("/auth/login") for request in stack.scicat.requests)


def test_a_step_session_is_closed_when_its_block_raises(stack: LocalStack) -> None:
    resource, built = recording(stack.scicat.url)

    with pytest.raises(DatasetNotFoundError), resource.run_session(LOG) as client:
        client.get_dataset("no/such-dataset")

    [client] = built
    assert client.closed


def test_a_step_sessions_fault_count_is_readable_after_the_block(
    stack: LocalStack, dataset: str
) -> None:
    resource, built = recording(stack.scicat.url)
    stack.scicat.fail_next(2, status=503, path_contains=dataset, method="GET")

    with resource.run_session(LOG) as client:
        client.get_dataset(dataset)

    assert client.closed
    assert client.transient_faults == 2
    assert built == [client]


def test_a_tick_session_is_closed_when_its_block_raises(stack: LocalStack) -> None:
    resource, built = recording(stack.scicat.url)

    with pytest.raises(DatasetNotFoundError), resource.tick_session() as client:
        client.get_dataset("no/such-dataset")

    [client] = built
    assert client.closed


def test_an_op_that_raises_closes_its_client(instance, unique_pid) -> None:
    unreachable, built = recording("http://127.0.0.1:9", retries=1, transient_fault_budget_s=1)

    result = archive(instance, unique_pid(), {"scicat": unreachable})

    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert failure.step_key == "origdatablocks"
    assert "SciCat unreachable" in failure.step_failure_data.error.message
    [client] = built
    assert client.closed


def test_an_op_whose_dataset_scicat_lacks_closes_its_client(
    stack: LocalStack, instance, unique_pid
) -> None:
    resource, built = recording(stack.scicat.url)

    result = archive(instance, unique_pid(), {"scicat": resource})

    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert "does not exist in SciCat" in failure.step_failure_data.error.message
    [client] = built
    assert client.closed


def test_each_scicat_step_of_a_run_logs_in_once_and_closes_its_client(
    stack: LocalStack, instance, seed_dataset, unique_pid
) -> None:
    pid = unique_pid()
    seed_dataset(pid)
    resource, built = recording(stack.scicat.url)
    stack.scicat.clear_requests()

    assert archive(instance, pid, {"scicat": resource}).success

    assert len(built) == ARCHIVAL_SCICAT_STEPS
    assert logins(stack) == ARCHIVAL_SCICAT_STEPS
    assert all(client.closed for client in built)


def test_a_sensor_tick_that_raises_closes_its_client(instance) -> None:
    resource, built = recording("http://127.0.0.1:9", retries=1)
    context = build_sensor_context(instance=instance, resources={"scicat": resource})

    with pytest.raises(SciCatError, match="SciCat unreachable"):
        scicat_jobs_sensor(context)

    [client] = built
    assert client.closed
