"""A landing-zone GET whose connection is cut mid-transfer resumes with a ranged GET.

The connection is really cut: the socket under the response is shut down while the packer is
half-way through the object, on the real S3 server on 127.0.0.1.
"""

import os
import socket
from typing import Any

import pytest

from archiver_dagster.storage.landing_zone import LandingZoneError
from archiver_dagster.storage.resumable_get import ResumableBody, TransferFailedError
from archiver_dagster.storage.s3_clients import shared_client
from archiver_dagster.transient import RetryBudget, RetryNotice, TransientFaults
from archiver_dagster_tests.storage.test_landing_zone import landing_zone
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

MIB = 1024 * 1024
PID = "20.500.12345/resumable"


def cut(body: ResumableBody) -> None:
    """Shuts down the connection a GET response is read from, as a reset would."""
    response = body._body._raw_stream  # botocore body -> urllib3 response
    fd = response._fp.fp.raw._sock.fileno()  # -> http.client response -> socket
    with socket.socket(fileno=os.dup(fd)) as connection:
        connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def large_object(stack: LocalStack) -> tuple[str, bytes]:
    key = f"openem-network/datasets/{PID}/raw_files/large.bin"
    data = os.urandom(12 * MIB)
    stack.s3.client().put_object(Bucket=LANDING_ZONE_BUCKET, Key=key, Body=data)
    return key, data


def test_a_cut_connection_resumes_from_the_next_byte(stack, large_object) -> None:
    key, data = large_object
    zone = landing_zone(stack)
    notices: list[RetryNotice] = []
    faults = TransientFaults(60, notices.append)
    body, source = zone._get(shared_client(zone.s3), key, faults)

    first = body.read(3 * MIB)
    cut(body)
    rest = body.read()

    assert first + rest == data
    assert body.resumes == 1 and len(notices) == 1 and faults.count == 1
    notice = notices[0]
    assert key in notice.request and notice.attempt == 2 and notice.wait_s > 0
    assert source.size == len(data)
    body.close()


def test_an_object_replaced_before_the_resume_is_not_mixed_in(stack, large_object) -> None:
    key, _ = large_object
    zone = landing_zone(stack)
    body, _ = zone._get(shared_client(zone.s3), key, zone.step_faults())
    body.read(MIB)
    stack.s3.client().put_object(Bucket=LANDING_ZONE_BUCKET, Key=key, Body=os.urandom(12 * MIB))
    cut(body)

    with pytest.raises(LandingZoneError, match=r"cannot resume .*PreconditionFailed"):
        body.read()
    body.close()


def test_a_transfer_that_keeps_failing_ends_with_the_budget(stack, large_object) -> None:
    key, _ = large_object
    client = shared_client(landing_zone(stack).s3)
    answer = client.get_object(Bucket=LANDING_ZONE_BUCKET, Key=key)

    def unreachable(offset: int) -> Any:
        raise ConnectionRefusedError("S3 is down")

    body = ResumableBody(answer["Body"], answer["ContentLength"], unreachable, RetryBudget(1.5))
    body.read(MIB)
    cut(body)

    with pytest.raises(TransferFailedError, match=r"at byte \d+ of 12582912 .* S3 is down"):
        body.read()
    body.close()
