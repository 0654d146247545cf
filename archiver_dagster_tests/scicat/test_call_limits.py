"""Limits of one SciCat call: bounded retrying, capped Retry-After, no blind repeat of a POST."""

import time

import pytest

from archiver_dagster.scicat.client import SciCatError
from archiver_dagster_tests.scicat.conftest import MakeClient
from archiver_dagster_tests.scicat.test_client import create_dto
from devstack.stack import LocalStack


@pytest.fixture(autouse=True)
def no_faults_left(stack: LocalStack):
    yield
    stack.scicat.clear_faults()


def test_retrying_stops_at_the_call_budget(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    # Unbounded, 6 retries at 2, 4, 8, 16, 32 s would take over a minute.
    client = make_client(retries=6, backoff_s=2.0, call_budget_s=1.0)
    client.login()
    stack.scicat.fail_next(100, status=503, path_contains=dataset)
    started = time.monotonic()

    with pytest.raises(SciCatError, match="answered 503") as raised:
        client.get_dataset(dataset)

    assert raised.value.status == 503
    assert time.monotonic() - started < 10


def test_retry_after_is_capped_by_the_call_budget(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client(retries=3, call_budget_s=1.0)
    client.login()
    stack.scicat.fail_next(100, status=503, path_contains=dataset, retry_after_s=3600)
    started = time.monotonic()

    with pytest.raises(SciCatError, match="answered 503"):
        client.get_dataset(dataset)

    assert time.monotonic() - started < 10  # not an hour


def test_a_503_after_a_retry_after_is_retried_and_succeeds(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client(retries=3, call_budget_s=5.0)
    stack.scicat.fail_next(1, status=503, path_contains=dataset, retry_after_s=1)

    assert client.get_dataset(dataset).pid == dataset


def test_a_post_whose_answer_was_lost_is_not_sent_twice(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client()
    stack.scicat.fail_next(
        1, status=504, path_contains="/datablocks", method="POST", after_apply=True
    )
    stack.scicat.clear_requests()

    stored = client.create_datablock(dataset, create_dto(dataset))

    assert [block["_id"] for block in stack.scicat.datablocks(dataset)] == [stored.id]
    posts = [r for r in stack.scicat.requests if r.method == "POST" and "datablocks" in r.path]
    assert [post.status for post in posts] == [504]  # applied once, its answer lost


def test_a_post_that_was_not_applied_is_sent_again(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client()
    stack.scicat.fail_next(2, status=503, path_contains="/datablocks", method="POST")
    stack.scicat.clear_requests()

    stored = client.create_datablock(dataset, create_dto(dataset))

    assert [block["_id"] for block in stack.scicat.datablocks(dataset)] == [stored.id]
    posts = [r for r in stack.scicat.requests if r.method == "POST" and "datablocks" in r.path]
    assert [post.status for post in posts] == [503, 503, 201]


def test_a_different_datablock_under_the_same_archive_id_is_an_error(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client()
    client.create_datablock(dataset, create_dto(dataset))
    other = create_dto(dataset).model_copy(update={"packed_size": 99_999})

    with pytest.raises(SciCatError, match=r"already holds datablock .* with other sizes"):
        client.create_datablock(dataset, other)
    assert len(stack.scicat.datablocks(dataset)) == 1


def test_login_is_retried_like_any_idempotent_call(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    stack.scicat.fail_next(2, status=503, path_contains="/auth/login")

    assert make_client().get_dataset(dataset).pid == dataset
