"""Each object streamed from the landing zone comes with its ETag and size, as its GET answered."""

import os
from collections.abc import Callable

from archiver_dagster.storage.landing_zone import PREFETCH_MAX_BYTES
from archiver_dagster_tests.helpers import upload_multipart
from archiver_dagster_tests.storage.test_landing_zone import PREFIX, landing_zone, put_raw
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

MIB = 1 << 20


def head(stack: LocalStack, pid: str, path: str) -> tuple[str, int]:
    answer = stack.s3.client().head_object(
        Bucket=LANDING_ZONE_BUCKET, Key=f"{PREFIX}/datasets/{pid}/raw_files/{path}"
    )
    return answer["ETag"], answer["ContentLength"]


def test_each_object_comes_with_the_etag_and_size_the_server_holds(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    contents = {"a.bin": os.urandom(1000), "empty.bin": b"", "z.bin": os.urandom(3000)}
    put_raw(stack, pid, contents)
    # Streamed from its GET (not prefetched), and uploaded in parts: an ETag that is no md5.
    big = os.urandom(PREFETCH_MAX_BYTES + 3 * MIB)
    upload_multipart(stack.s3.client(), f"{PREFIX}/datasets/{pid}/raw_files/big.bin", big)
    contents["big.bin"] = big
    order = ["z.bin", "big.bin", "empty.bin", "a.bin"]

    seen = {}
    for path, (stream, source) in zip(
        order,
        landing_zone(stack).open_raw_files(pid, [(p, len(contents[p])) for p in order]),
        strict=True,
    ):
        assert stream.read() == contents[path]
        seen[path] = (source.etag, source.size)

    assert seen == {path: head(stack, pid, path) for path in order}
    assert seen["big.bin"][0].endswith('-3"')  # three parts
    assert seen["big.bin"][1] == len(big)


def test_a_replaced_object_no_longer_has_the_recorded_etag(
    stack: LocalStack, unique_pid: Callable[[], str]
) -> None:
    pid = unique_pid()
    put_raw(stack, pid, {"a.bin": b"first version"})
    sources = []
    for stream, source in landing_zone(stack).open_raw_files(pid, [("a.bin", 13)]):
        assert stream.read() == b"first version"
        sources.append(source)
    (source,) = sources

    put_raw(stack, pid, {"a.bin": b"other version"})  # same size, other content

    assert source.etag != head(stack, pid, "a.bin")[0]
    assert source.size == head(stack, pid, "a.bin")[1] == 13
