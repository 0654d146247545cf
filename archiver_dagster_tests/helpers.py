"""Test helpers: materialize a dataset, run the failure sensor on a failed run, inspect stores."""

import ctypes
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    build_run_status_sensor_context,
    materialize,
)

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.automation.failure_sensor import dataset_failure_sensor
from archiver_dagster.definitions import build_resources
from archiver_dagster.devstack.stack import LANDING_ZONE_BUCKET, LocalStack
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.retrieval.assets import retrieved_datablocks
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.lts import LTSResource

PREFIX = "openem-network"


def archive(
    instance: DagsterInstance, pid: str, overrides: Mapping[str, object] | None = None
) -> ExecuteInProcessResult:
    """Materializes the four archival assets of `pid` in process on `instance`."""
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return materialize(
        archival_assets,
        partition_key=pid,
        instance=instance,
        resources={**build_resources(), **(overrides or {})},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def retrieve(
    instance: DagsterInstance,
    pid: str,
    overrides: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
) -> ExecuteInProcessResult:
    """Materializes `retrieved_datablocks` of `pid` in process on `instance`."""
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return materialize(
        [*archival_assets, retrieved_datablocks],
        selection=[retrieved_datablocks],
        partition_key=pid,
        instance=instance,
        resources={**build_resources(), **(overrides or {})},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        tags=tags,
    )


def run_failure_sensor(
    instance: DagsterInstance,
    result: ExecuteInProcessResult,
    overrides: Mapping[str, object] | None = None,
) -> None:
    """Evaluates `dataset_failure_sensor` for a failed run, as the daemon would."""
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    records = instance.get_records_for_run(
        result.run_id, of_type=DagsterEventType.RUN_FAILURE
    ).records
    assert records, "the run did not fail"
    event = records[0].event_log_entry.dagster_event
    assert event is not None
    resources = {**build_resources(), **(overrides or {})}
    needed = ("scicat", "landing_zone", "lts", "packing", "retrieval_bucket")
    with build_run_status_sensor_context(
        sensor_name=dataset_failure_sensor.name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
        resources={key: resources[key] for key in needed},
    ).for_run_failure() as context:
        dataset_failure_sensor(context)


def landing_zone_keys(stack: LocalStack, pid: str) -> list[str]:
    """The dataset's objects left in the landing zone."""
    paginator = stack.s3.client().get_paginator("list_objects_v2")
    prefix = f"{PREFIX}/datasets/{pid}/"
    return [
        item["Key"]
        for page in paginator.paginate(Bucket=LANDING_ZONE_BUCKET, Prefix=prefix)
        for item in page.get("Contents", [])
    ]


def lts_folder(stack: LocalStack, pid: str) -> Path:
    """The dataset's datablock folder on the LTS."""
    return stack.lts_root / DatasetLayout(PREFIX, pid).datablocks_folder


def scratch_folder(stack: LocalStack, pid: str) -> Path:
    """The dataset's scratch folder."""
    return DatasetLayout(PREFIX, pid).scratch_folder(stack.scratch_root)


def archive_status(stack: LocalStack, pid: str) -> str | None:
    """The dataset's `archiveStatusMessage` in the simulator."""
    dataset = stack.scicat.dataset(pid)
    assert dataset is not None
    return dataset["datasetlifecycle"].get("archiveStatusMessage")


def wait_until(condition: Callable[[], Any], timeout_s: float = 180.0, what: str = "") -> Any:
    """Polls `condition` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")


class CorruptingLTSResource(LTSResource):
    """An LTS whose medium flips one bit of every file after it was flushed."""

    def store(self, source: Path, archive_id: str) -> Path:
        dest = super().store(source, archive_id)
        with dest.open("r+b") as handle:
            handle.seek(dest.stat().st_size // 2)
            byte = handle.read(1)[0]
            handle.seek(-1, 1)
            handle.write(bytes([byte ^ 0x01]))
        return dest


def lts(stack: LocalStack, cls: type[LTSResource] = LTSResource, **fields: object) -> LTSResource:
    """The stack's LTS with short waits and no free-space margin; `fields` override."""
    settings = {
        "storage_root": str(stack.lts_root),
        "free_space_percentage": "0",
        "file_timeout_s": 1,
        "read_retry_delay_s": 1,
        "wait_before_verify_s": 0,
    }
    return cls(**{**settings, **fields})


def failing_libc_call(code: int) -> Callable[..., int]:
    """A stand-in for a C library call (`storage.libc.libc_function`) failing with errno `code`."""

    def call(*args: int) -> int:
        ctypes.set_errno(code)
        return -1

    return call
