"""Transient versus permanent, decided once; retries within a budget, with backoff and jitter."""

import time

import botocore.exceptions
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.transient import (
    MAX_WAIT_S,
    ReportedTransientError,
    RetryNotice,
    TransientFaults,
    backoff_s,
    is_transient_s3_error,
    retries_within,
)


def client_error(status: int, code: str) -> botocore.exceptions.ClientError:
    answer = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return botocore.exceptions.ClientError(answer, "PutObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error(503, "SlowDown"), True),
        (client_error(500, "InternalError"), True),
        (client_error(429, "TooManyRequests"), True),
        (client_error(502, "BadGateway"), True),
        (client_error(400, "RequestTimeout"), True),  # S3 sends this code with a 400
        (client_error(404, "NoSuchKey"), False),
        (client_error(403, "AccessDenied"), False),
        (client_error(412, "PreconditionFailed"), False),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://s3"), True),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://s3"), True),
        (ConnectionResetError("reset by peer"), True),
        (ReportedTransientError("2 keys not deleted: SlowDown"), True),
        (ValueError("checksum mismatch"), False),
        (FileNotFoundError("missing"), False),
    ],
)
def test_s3_failures_are_classified_once(error: BaseException, transient: bool) -> None:
    assert is_transient_s3_error(error) is transient


@given(st.integers(min_value=1, max_value=60))
def test_backoff_doubles_is_capped_and_jittered_within_half_to_all(retry: int) -> None:
    nominal = min(MAX_WAIT_S, 0.5 * 2 ** (retry - 1))
    assert nominal / 2 <= backoff_s(retry) <= nominal


def test_the_budget_decides_how_many_retries_a_pooled_op_gets() -> None:
    # 0.5 + 1 + 2 + 4 + 8 + 16 = 31.5 s, then 30 s each: 600 s are 25 retries.
    assert retries_within(600) == 25
    assert retries_within(1) == 2
    assert retries_within(0) == 1


def test_a_transient_fault_is_retried_until_the_call_succeeds() -> None:
    notices: list[RetryNotice] = []
    faults = TransientFaults(30, notices.append)
    outcomes = iter([client_error(503, "SlowDown"), client_error(503, "SlowDown"), "listed"])

    def call() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert faults.call("LIST s3://bucket/p", call) == "listed"
    assert faults.count == 2
    assert [(n.request, n.attempt) for n in notices] == [
        ("LIST s3://bucket/p", 2),
        ("LIST s3://bucket/p", 3),
    ]
    assert "SlowDown" in notices[0].reason and 0.25 <= notices[0].wait_s <= 0.5


def test_a_permanent_fault_fails_at_once() -> None:
    faults = TransientFaults(30)
    calls = []

    def call() -> None:
        calls.append(1)
        raise client_error(403, "AccessDenied")

    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        faults.call("PUT s3://bucket/k", call)
    assert calls == [1] and faults.count == 0


def test_a_fault_outlasting_the_budget_raises_the_last_error() -> None:
    faults = TransientFaults(1.0)
    started = time.monotonic()

    def call() -> None:
        raise client_error(503, "SlowDown")

    with pytest.raises(botocore.exceptions.ClientError, match="SlowDown"):
        faults.call("DELETE s3://bucket/k", call)
    assert time.monotonic() - started <= 1.5
    assert 1 <= faults.count <= 3
