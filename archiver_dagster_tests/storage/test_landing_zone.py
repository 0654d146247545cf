"""The landing zone against a real S3 server: listing, ordered streaming, deleting a dataset."""

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from dagster_aws.s3 import S3Resource

from archiver_dagster.partitions import InvalidPidError
from archiver_dagster.storage import landing_zone as landing_zone_module
from archiver_dagster.storage.landing_zone import (
    PREFETCH_MAX_BYTES,
    LandingZoneError,
    LandingZoneResource,
)
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.s3_clients import shared_client
from archiver_dagster_tests.helpers import wait_until
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

PREFIX = "openem-network"
MIB = 1024 * 1024


def landing_zone(stack: LocalStack, **fields: Any) -> LandingZoneResource:
    s3 = S3Resource(
        endpoint_url=stack.s3.url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
    )
    settings: dict[str, Any] = {
        "bucket": LANDING_ZONE_BUCKET,
        "dataset_layout": DatasetLayoutResource(),
        "download_concurrency": 3,
    }
    return LandingZoneResource(s3=s3, **{**settings, **fields})


def put(stack: LocalStack, key: str, body: bytes) -> None:
    stack.s3.client().put_object(Bucket=LANDING_ZONE_BUCKET, Key=key, Body=body)


def put_raw(stack: LocalStack, pid: str, files: dict[str, bytes]) -> None:
    for path, body in files.items():
        put(stack, f"{PREFIX}/datasets/{pid}/raw_files/{path}", body)


def keys_under(stack: LocalStack, prefix: str) -> set[str]:
    pages = stack.s3.client().get_paginator("list_objects_v2")
    return {
        item["Key"]
        for page in pages.paginate(Bucket=LANDING_ZONE_BUCKET, Prefix=prefix)
        for item in page.get("Contents", [])
    }


def test_list_raw_files_maps_relative_paths_to_sizes(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    put_raw(stack, pid, {"a.bin": b"x" * 10, "sub/dir/b.bin": b"", "ü é.txt": b"abc"})
    put(stack, f"{PREFIX}/datasets/{pid}/other/not-raw.bin", b"12345")
    put_raw(stack, pid + "c", {"sibling.bin": b"1"})  # a PID extending this one
    put_raw(stack, pid + "/q", {"nested.bin": b"1"})  # a PID nested in this one
    assert landing_zone(stack).list_raw_files(pid) == {
        "a.bin": 10,
        "sub/dir/b.bin": 0,
        "ü é.txt": 3,
    }


def test_list_raw_files_of_unknown_dataset_is_empty(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    assert landing_zone(stack).list_raw_files(unique_pid()) == {}


def test_list_raw_files_honours_the_storage_prefix(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    put(stack, f"site-b/datasets/{pid}/raw_files/x.bin", b"1234")
    site_b = DatasetLayoutResource(storage_prefix="site-b")
    assert landing_zone(stack, dataset_layout=site_b).list_raw_files(pid) == {"x.bin": 4}
    assert landing_zone(stack).list_raw_files(pid) == {}


def test_missing_bucket_is_a_landing_zone_error(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    with pytest.raises(LandingZoneError, match=r"^cannot list s3://no-such-bucket/openem-network/"):
        landing_zone(stack, bucket="no-such-bucket").list_raw_files(unique_pid())


def test_invalid_pid_is_rejected_before_any_request(stack: LocalStack) -> None:
    with pytest.raises(InvalidPidError):
        landing_zone(stack).list_raw_files("../other")


def test_open_raw_files_yields_streams_in_requested_order(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    big = os.urandom(9 * MIB)
    assert len(big) > PREFETCH_MAX_BYTES
    contents = {f"small_{i}.bin": os.urandom(1000 + i) for i in range(6)}
    contents["empty.bin"] = b""
    contents["z/big.bin"] = big
    put_raw(stack, pid, contents)
    # Not sorted, the big object in the middle, more files than download_concurrency.
    order = ["small_5.bin", "z/big.bin", "small_0.bin", "empty.bin", "small_3.bin", "small_1.bin"]
    order += ["small_4.bin", "small_2.bin"]

    streams = []
    read = []
    for stream, _ in landing_zone(stack).open_raw_files(
        pid, [(p, len(contents[p])) for p in order]
    ):
        streams.append(stream)
        read.append(stream.read())
    assert read == [contents[path] for path in order]
    # Small objects were fetched ahead into memory, the big one streamed from its GET.
    assert isinstance(streams[0], io.BytesIO)
    assert not isinstance(streams[1], io.BytesIO)
    assert all(stream.closed for stream in streams)


def test_open_raw_files_big_object_read_in_chunks(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    big = os.urandom(9 * MIB)
    put_raw(stack, pid, {"big.bin": big, "a.bin": b"a"})
    files = [("big.bin", len(big)), ("a.bin", 1)]
    chunks = []
    results = []
    for stream, _ in landing_zone(stack, download_concurrency=1).open_raw_files(pid, files):
        data = b""
        while chunk := stream.read(MIB):
            chunks.append(len(chunk))
            data += chunk
        results.append(data)
    assert results == [big, b"a"]
    assert max(chunks) <= MIB


def test_open_raw_files_with_nothing_yields_nothing(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    assert list(landing_zone(stack).open_raw_files(unique_pid(), [])) == []


def test_open_raw_files_missing_object_is_a_landing_zone_error(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    put_raw(stack, pid, {"a.bin": b"a"})
    streams = landing_zone(stack).open_raw_files(pid, [("a.bin", 1), ("gone.bin", 5)])
    assert next(streams)[0].read() == b"a"
    with pytest.raises(LandingZoneError) as info:
        next(streams)
    key = f"{PREFIX}/datasets/{pid}/raw_files/gone.bin"
    assert str(info.value).startswith(f"cannot read s3://{LANDING_ZONE_BUCKET}/{key}: ")


def test_delete_files_removes_exactly_the_archived_files(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    sibling = pid + "c"  # "a/b" vs "a/bc"
    put_raw(stack, pid, {"a.bin": b"1", "sub/b.bin": b"22", "late.bin": b"333"})
    put(stack, f"{PREFIX}/datasets/{pid}/other.json", b"{}")
    put_raw(stack, sibling, {"a.bin": b"1"})
    put(stack, f"other-prefix/datasets/{pid}/raw_files/a.bin", b"1")

    assert landing_zone(stack).delete_files(pid, ["a.bin", "sub/b.bin"]) == 2
    # Objects nobody archived (uploaded late, or not raw files) are never deleted.
    assert keys_under(stack, f"{PREFIX}/datasets/{pid}/") == {
        f"{PREFIX}/datasets/{pid}/raw_files/late.bin",
        f"{PREFIX}/datasets/{pid}/other.json",
    }
    assert keys_under(stack, f"{PREFIX}/datasets/{sibling}/") == {
        f"{PREFIX}/datasets/{sibling}/raw_files/a.bin"
    }
    assert keys_under(stack, f"other-prefix/datasets/{pid}/") == {
        f"other-prefix/datasets/{pid}/raw_files/a.bin"
    }
    landing_zone(stack).delete_files(pid, ["a.bin"])  # idempotent: already gone is fine


def test_delete_files_in_parallel_batches_deletes_every_archived_file_and_no_other(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    files = {f"f{i:02d}.bin": bytes([i]) for i in range(25)}
    put_raw(stack, pid, {**files, "kept.bin": b"k"})
    # download_concurrency 3: 25 keys go out as 3 requests of at most 9 keys, at once.
    assert landing_zone(stack).delete_files(pid, sorted(files)) == 25
    assert landing_zone(stack).list_raw_files(pid) == {"kept.bin": 1}
    assert landing_zone(stack).delete_files(pid, []) == 0


def test_delete_files_failure_names_the_bucket(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    with pytest.raises(
        LandingZoneError, match=r"cannot delete from s3://no-such-bucket: .*NoSuchBucket"
    ):
        landing_zone(stack, bucket="no-such-bucket").delete_files(unique_pid(), ["a.bin", "b.bin"])


def test_delete_files_keeps_a_nested_dataset(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    nested = pid + "/q"
    put_raw(stack, pid, {"a.bin": b"1"})
    put_raw(stack, nested, {"n.bin": b"1"})
    landing_zone(stack).delete_files(pid, ["a.bin"])
    assert landing_zone(stack).list_raw_files(pid) == {}
    assert landing_zone(stack).list_raw_files(nested) == {"n.bin": 1}


def recording_get_objects(
    zone: LandingZoneResource, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[Any]]:
    """Records the file name of every GET of the zone's shared client, and each body."""
    client = shared_client(zone.s3)  # the client every op of this process uses
    opened: list[str] = []
    bodies: list[Any] = []
    real_get = client.get_object

    def get_object(**kwargs: Any) -> Any:
        response = real_get(**kwargs)
        bodies.append(response["Body"])
        opened.append(kwargs["Key"].rsplit("/", 1)[-1])
        return response

    monkeypatch.setattr(client, "get_object", get_object)
    return opened, bodies


def small_big_big_small(stack: LocalStack, pid: str) -> dict[str, bytes]:
    """Uploads a.bin, big_1.bin, big_2.bin (streamed, not prefetched), z.bin; returns them."""
    big = os.urandom(PREFETCH_MAX_BYTES + 1)
    contents = {"a.bin": b"a", "big_1.bin": big, "big_2.bin": big[::-1], "z.bin": b"z"}
    put_raw(stack, pid, contents)
    return contents


def test_open_raw_files_opens_a_large_object_shortly_before_its_turn(
    stack: LocalStack, unique_pid: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = unique_pid()
    contents = small_big_big_small(stack, pid)
    big = contents["big_1.bin"]
    monkeypatch.setattr(landing_zone_module, "OPEN_AHEAD_BYTES", MIB)
    zone = landing_zone(stack, download_concurrency=4)
    opened, _ = recording_get_objects(zone, monkeypatch)
    order = list(contents)
    read: list[bytes] = []
    for stream, _ in zone.open_raw_files(pid, [(p, len(contents[p])) for p in order]):
        if order[len(read)] != "big_1.bin":
            read.append(stream.read())
            continue
        # big_2's GET waits until big_1 has at most OPEN_AHEAD_BYTES left, then starts at once.
        data = b""
        while len(big) - len(data) > MIB:
            assert "big_2.bin" not in opened
            data += stream.read(MIB // 2)
        wait_until(lambda: "big_2.bin" in opened, 10, "big_2.bin's GET")
        read.append(data + stream.read())
    assert read == [contents[p] for p in order]
    assert sorted(opened) == sorted(order)


def test_open_raw_files_closes_what_it_opened_when_the_reader_stops_early(
    stack: LocalStack, unique_pid: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = unique_pid()
    contents = small_big_big_small(stack, pid)
    zone = landing_zone(stack, download_concurrency=4)
    opened, bodies = recording_get_objects(zone, monkeypatch)
    # Closing must not rely on the garbage collector (a traceback can keep a stream alive).
    monkeypatch.setattr(landing_zone_module._NearEndBody, "__del__", lambda self: None)
    streams = zone.open_raw_files(pid, [(p, len(contents[p])) for p in contents])
    assert next(streams)[0].read() == b"a"
    # Opened ahead: a.bin needed no waiting.
    wait_until(lambda: "big_1.bin" in opened, 10, "big_1.bin's GET")
    streams.close()
    assert "big_2.bin" not in opened  # big_1 was never read, so its successor never opened
    assert len(bodies) == len(opened) >= 2
    # Every response was released (botocore's close() closes the urllib3 response).
    assert all(body._raw_stream.closed for body in bodies)
