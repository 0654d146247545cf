"""Test helpers: materialize a dataset, run the cleanup sensor on a failed run, inspect stores."""

import ctypes
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    ExecuteInProcessResult,
    build_sensor_context,
    materialize,
)

from archiver_dagster.archival.assets import (
    archival_assets,
    archival_assets_for,
    archived_datablocks,
)
from archiver_dagster.automation.cleanup_sensor import dataset_cleanup_sensor
from archiver_dagster.definitions import build_resources
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.retrieval.assets import retrieved_datablocks
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.tags import CLEANED_UP_TAG
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

PREFIX = "openem-network"


def archive(
    instance: DagsterInstance,
    pid: str,
    overrides: Mapping[str, object] | None = None,
    on_scratch: bool = True,
) -> ExecuteInProcessResult:
    """Materializes the four archival assets of `pid` in process on `instance`.

    `on_scratch=False`: the chain of the no-scratch mode (tars packed straight onto the LTS).
    """
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return materialize(
        archival_assets_for(on_scratch),
        partition_key=pid,
        instance=instance,
        resources={**build_resources(), **(overrides or {})},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def archival_output(result: ExecuteInProcessResult, asset: str) -> Any:
    """The value of `datablocks`, `lts_datablocks` or `verified_datablocks` in an archival run."""
    return result.output_for_node(archived_datablocks.name, asset)


def archival_materializations(
    result: ExecuteInProcessResult, asset: str
) -> list[AssetMaterialization]:
    """The materializations of one of the assets the archival graph materializes together."""
    return [
        materialization
        for materialization in result.asset_materializations_for_node(archived_datablocks.name)
        if materialization.asset_key == AssetKey(asset)
    ]


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


def run_cleanup_sensor(
    instance: DagsterInstance,
    overrides: Mapping[str, object] | None = None,
    cursor: str | None = None,
) -> str | None:
    """Evaluates `dataset_cleanup_sensor` once, as the daemon would; returns its new cursor.

    Without a cursor it finds every failed or canceled dataset run of the instance.
    """
    resources = {**build_resources(), **(overrides or {})}
    needed = ("scicat", "landing_zone", "lts", "packing", "retrieval_bucket")
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={key: resources[key] for key in needed},
    ) as context:
        dataset_cleanup_sensor(context)
        return context.cursor


def cleaned_up(instance: DagsterInstance, run_id: str) -> bool:
    """Whether the cleanup sensor marked the run cleaned up."""
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return CLEANED_UP_TAG in run.tags


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
        "dataset_layout": DatasetLayoutResource(),
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


def upload_multipart(client: Any, key: str, data: bytes, part_size: int = 5 << 20) -> None:
    """Uploads `data` to the landing zone in parts, as upload tools do for large files."""
    upload = client.create_multipart_upload(Bucket=LANDING_ZONE_BUCKET, Key=key)
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), start=1):
        answer = client.upload_part(
            Bucket=LANDING_ZONE_BUCKET,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data[start : start + part_size],
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(
        Bucket=LANDING_ZONE_BUCKET,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
