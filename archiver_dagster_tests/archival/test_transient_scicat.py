"""A SciCat outage during a run costs no dataset: calls are retried within the run's budget."""

from dagster import AssetKey

from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster_tests.helpers import archive, archive_status, landing_zone_keys
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack


def scicat(stack: LocalStack, budget_s: int, timeout_s: int = 30) -> SciCatResource:
    return SciCatResource(
        endpoint=stack.scicat.url,
        username=SCICAT_USER,
        password=SCICAT_PASSWORD,
        backoff_s=0.2,
        timeout_s=timeout_s,
        transient_fault_budget_s=budget_s,
    )


def test_an_outage_shorter_than_the_budget_is_ridden_out(
    stack, instance, seed_dataset, unique_pid, capfd
):
    pid = unique_pid()
    seed_dataset(pid)
    stack.scicat.fail_next(2, status=503)  # the next requests, the login first

    result = archive(instance, pid, {"scicat": scicat(stack, budget_s=60)})

    assert result.success
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    assert landing_zone_keys(stack, pid) == []
    record = instance.fetch_materializations(AssetKey("origdatablocks"), limit=1).records[0]
    assert record.asset_materialization.metadata["scicat_transient_faults"].value >= 2
    logged = capfd.readouterr().err
    assert "SciCat: POST" in logged and "(HTTP 503); attempt 2 in" in logged


def test_an_outage_longer_than_the_budget_fails_the_dataset_as_a_system_error(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    stack.scicat.fail_for(8.0, status=503, path_contains=pid)

    result = archive(instance, pid, {"scicat": scicat(stack, budget_s=1)})
    stack.scicat.clear_faults()

    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert "answered 503" in failure.step_failure_data.error.message
    assert (
        failure.step_failure_data.user_failure_data.metadata["archiver/error_kind"].text == "system"
    )
    assert len(landing_zone_keys(stack, pid)) == 6  # nothing lost


def test_requests_that_time_out_are_retried(stack, instance, seed_dataset, unique_pid, capfd):
    pid = unique_pid()
    seed_dataset(pid)
    # A hung backend: the lifecycle updates are applied, but their answers come after the
    # client's 1 s timeout.
    stack.scicat.fail_next(
        2, status=504, path_contains=pid, method="PATCH", after_apply=True, stall_s=2.0
    )
    result = archive(instance, pid, {"scicat": scicat(stack, budget_s=60, timeout_s=1)})

    assert result.success
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    assert landing_zone_keys(stack, pid) == []
    retries = [line for line in capfd.readouterr().err.splitlines() if "Read timed out" in line]
    assert len(retries) == 2 and all("PATCH" in line for line in retries)
    [planned] = [
        event
        for event in result.all_events
        if event.is_successful_output
        and event.step_key == "archived_datablocks.plan_datablock_packing"
    ][:1]
    assert planned.step_output_data.metadata["scicat_transient_faults"].value == 2
