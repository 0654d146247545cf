"""The JSON manifest IO manager: partition keys with `/`, `.` and `..` stored whole and safely."""

import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from dagster import (
    AssetIn,
    DagsterInstance,
    DynamicPartitionsDefinition,
    asset,
    materialize,
)
from pydantic import BaseModel

from archiver_dagster.io_manager import JsonManifestIOManagerFactory
from archiver_dagster.partitions import MAX_PID_LENGTH, validate_pid
from archiver_dagster.storage.local_names import local_name

PARTITIONS_NAME = "throwaway"
throwaway_partitions = DynamicPartitionsDefinition(name=PARTITIONS_NAME)
IO_KEY = "manifest_io"


class Manifest(BaseModel):
    pid: str
    files: list[str]
    total_bytes: int


class Summary(BaseModel):
    pid: str
    count: int


@asset(partitions_def=throwaway_partitions, io_manager_key=IO_KEY)
def upstream_manifest(context) -> Manifest:
    key = context.partition_key
    return Manifest(pid=key, files=[f"{key}/a.bin", "b.bin"], total_bytes=len(key))


@asset(
    partitions_def=throwaway_partitions,
    io_manager_key=IO_KEY,
    ins={"manifest": AssetIn("upstream_manifest")},
)
def downstream_summary(context, manifest: Manifest) -> Summary:
    assert manifest.pid == context.partition_key
    return Summary(pid=manifest.pid, count=len(manifest.files))


@asset(partitions_def=throwaway_partitions, io_manager_key=IO_KEY)
def plain_list(context) -> list[int]:
    return [len(context.partition_key), 7]


@asset(partitions_def=throwaway_partitions, io_manager_key=IO_KEY)
def nothing_returned(context) -> None:
    context.log.info("no value")


def run(instance: DagsterInstance, key: str, base_dir: Path | None, selection=None) -> None:
    instance.add_dynamic_partitions(PARTITIONS_NAME, [key])
    factory = JsonManifestIOManagerFactory(base_dir=str(base_dir) if base_dir else None)
    result = materialize(
        [upstream_manifest, downstream_summary, plain_list, nothing_returned],
        selection=selection,
        partition_key=key,
        instance=instance,
        resources={IO_KEY: factory},
    )
    assert result.success


def stored(base_dir: Path, asset_name: str, key: str) -> dict:
    path = base_dir / asset_name / f"{local_name(key)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def all_files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_nested_partition_keys_do_not_destroy_each_other(
    instance: DagsterInstance, tmp_path: Path
) -> None:
    base = tmp_path / "manifests"
    run(instance, "p", base, selection=[upstream_manifest])
    run(instance, "p/q", base, selection=[upstream_manifest])

    assert stored(base, "upstream_manifest", "p")["pid"] == "p"
    assert stored(base, "upstream_manifest", "p/q")["pid"] == "p/q"
    assert {path.name for path in all_files(base)} == {"p.json", "p%2Fq.json"}

    # The downstream asset reads each upstream partition back through the IO manager.
    run(instance, "p", base, selection=[downstream_summary])
    run(instance, "p/q", base, selection=[downstream_summary])
    assert stored(base, "downstream_summary", "p") == {"pid": "p", "count": 2}
    assert stored(base, "downstream_summary", "p/q") == {"pid": "p/q", "count": 2}


def test_manifest_file_is_the_model_json_with_no_partial_left(
    instance: DagsterInstance, tmp_path: Path
) -> None:
    base = tmp_path / "out"
    run(instance, "20.500.12345/x y", base, selection=[upstream_manifest])
    path = base / "upstream_manifest" / "20.500.12345%2Fx%20y.json"
    assert Manifest.model_validate_json(path.read_text(encoding="utf-8")) == Manifest(
        pid="20.500.12345/x y", files=["20.500.12345/x y/a.bin", "b.bin"], total_bytes=16
    )
    assert all_files(base) == {path}


def test_non_model_values_are_stored_as_json(instance: DagsterInstance, tmp_path: Path) -> None:
    run(instance, "k", tmp_path, selection=[plain_list, nothing_returned])
    assert stored(tmp_path, "plain_list", "k") == [1, 7]
    # None is not stored at all.
    assert not (tmp_path / "nothing_returned").exists()


@pytest.mark.parametrize(("key", "file_name"), [(".", "%2E.json"), ("..", "%2E%2E.json")])
def test_dot_keys_stay_inside_base_dir(
    instance: DagsterInstance, tmp_path: Path, key: str, file_name: str
) -> None:
    # `..` resolved naively would put the file in `out/`, `.` in `out/base/`.
    base = tmp_path / "out" / "base"
    run(instance, key, base, selection=[upstream_manifest, downstream_summary])
    assert all_files(tmp_path / "out") == {
        base / "upstream_manifest" / file_name,
        base / "downstream_summary" / file_name,
    }
    assert stored(base, "downstream_summary", key) == {"pid": key, "count": 2}


def test_default_base_dir_is_in_instance_storage(instance: DagsterInstance) -> None:
    run(instance, "a/b", None, selection=[upstream_manifest, downstream_summary])
    base = Path(instance.storage_directory()) / "manifests"
    assert stored(base, "upstream_manifest", "a/b")["pid"] == "a/b"
    assert stored(base, "downstream_summary", "a/b") == {"pid": "a/b", "count": 2}


def test_rematerialization_replaces_the_value(instance: DagsterInstance, tmp_path: Path) -> None:
    path = tmp_path / "upstream_manifest" / "r.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"stale": true}', encoding="utf-8")
    run(instance, "r", tmp_path, selection=[upstream_manifest])
    assert stored(tmp_path, "upstream_manifest", "r")["pid"] == "r"


def test_long_valid_pid_can_be_stored(instance: DagsterInstance, tmp_path: Path) -> None:
    pid = validate_pid("20.500.12345/" + "é" * ((MAX_PID_LENGTH - 13) // 2))
    assert len(pid) < MAX_PID_LENGTH
    instance.add_dynamic_partitions(PARTITIONS_NAME, [pid])
    result = materialize(
        [upstream_manifest],
        partition_key=pid,
        instance=instance,
        resources={IO_KEY: JsonManifestIOManagerFactory(base_dir=str(tmp_path))},
        raise_on_error=False,
    )
    assert result.success
    assert stored(tmp_path, "upstream_manifest", pid)["pid"] == pid


def test_long_key_and_a_key_spelling_its_hashed_name_keep_separate_values(
    instance: DagsterInstance, tmp_path: Path
) -> None:
    # A long key is stored under a readable start and a hash of the whole key. A key whose own
    # encoding is that very name (anyone may create such a PID) must not share its file: the
    # value of one dataset would be read as the other's.
    long_key = "20.500.12345/" + "é" * 90
    hashed_name = local_name(long_key)
    twin = unquote(hashed_name)
    assert twin != long_key

    base = tmp_path / "manifests"

    run(instance, long_key, base, selection=[upstream_manifest])
    run(instance, twin, base, selection=[upstream_manifest])

    assert stored(base, "upstream_manifest", long_key)["pid"] == long_key
    assert stored(base, "upstream_manifest", twin)["pid"] == twin
    assert len(all_files(base)) == 2
