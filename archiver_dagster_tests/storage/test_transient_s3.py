"""Landing-zone listings, GETs and deletes ride out S3 refusing requests for a while.

The faults are real: a proxy on 127.0.0.1 in front of the S3 server answers `503 SlowDown` to
the next requests (a count, not a time window, which a loaded machine could let pass before
the first request). botocore's own retries are switched off (`max_attempts=0`: botocore counts
retries after the first request), so every retry seen here is the archiver's.
"""

from collections.abc import Callable

import pytest
from dagster_aws.s3 import S3Resource

from archiver_dagster.storage.landing_zone import LandingZoneError, LandingZoneResource
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.transient import RetryNotice, TransientFaults
from archiver_dagster_tests.storage.test_landing_zone import keys_under, put_raw
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from devstack.soak.s3_proxy import FaultyProxy
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

FILES = {f"f{i}.bin": bytes([i]) * (1000 + i) for i in range(5)}
REFUSED = 2


def through(proxy: FaultyProxy) -> LandingZoneResource:
    s3 = S3Resource(
        endpoint_url=proxy.url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
        max_attempts=0,
    )
    return LandingZoneResource(
        s3=s3,
        bucket=LANDING_ZONE_BUCKET,
        dataset_layout=DatasetLayoutResource(),
        download_concurrency=2,
    )


@pytest.fixture
def pid(stack: LocalStack, unique_pid: Callable[[], str]) -> str:
    pid = unique_pid()
    put_raw(stack, pid, FILES)
    return pid


def test_a_listing_refused_for_a_while_is_retried_and_complete(s3_proxy, pid) -> None:
    notices: list[RetryNotice] = []
    faults = TransientFaults(60, notices.append)
    s3_proxy.refuse_next(REFUSED)

    listed = through(s3_proxy).list_raw_files(pid, faults)

    assert listed == {path: len(body) for path, body in FILES.items()}
    assert faults.count >= 1 and faults.count == len(notices)
    assert notices[0].request.startswith(f"LIST s3://{LANDING_ZONE_BUCKET}/")
    assert "SlowDown" in notices[0].reason
    assert s3_proxy.counts().refused_503 == REFUSED


def test_a_listing_without_a_budget_fails_at_once_for_the_next_tick(s3_proxy, pid) -> None:
    s3_proxy.refuse_for(30)

    with pytest.raises(LandingZoneError, match=r"cannot list .*SlowDown"):
        through(s3_proxy).list_raw_files(pid)
    assert s3_proxy.counts().refused_503 == 1


def test_a_listing_failing_longer_than_the_budget_is_an_error(s3_proxy, pid) -> None:
    faults = TransientFaults(1.0)
    s3_proxy.refuse_for(30)

    with pytest.raises(LandingZoneError, match=r"cannot list .*SlowDown"):
        through(s3_proxy).list_raw_files(pid, faults)
    assert faults.count >= 1


def test_gets_refused_for_a_while_are_retried(s3_proxy, pid) -> None:
    faults = TransientFaults(60)
    s3_proxy.refuse_next(REFUSED)

    streams = through(s3_proxy).open_raw_files(pid, [(p, len(b)) for p, b in FILES.items()], faults)
    read = [stream.read() for stream, _ in streams]

    assert read == list(FILES.values())
    assert faults.count >= 1


def test_deletes_refused_for_a_while_are_retried_and_complete(stack, s3_proxy, pid) -> None:
    faults = TransientFaults(60)
    s3_proxy.refuse_next(REFUSED)

    deleted = through(s3_proxy).delete_files(pid, sorted(FILES), faults)

    assert deleted == len(FILES)
    assert keys_under(stack, f"openem-network/datasets/{pid}/") == set()
    assert faults.count >= 1
