"""The client reads answers as the backend's OpenAPI describes them, and names what is missing.

The simulator answers exactly the SDK's response models (checked for every exchange by the
suite's contract fixture); here it is made to answer as other backend versions may, through
`answers_rewritten`, to show what the client accepts and what it refuses, and how.
"""

from typing import Any

import pytest

from archiver_dagster.scicat.client import SciCatClient, SciCatError
from archiver_dagster.scicat.job_api import get_job, list_jobs
from archiver_dagster_tests.scicat.conftest import MakeClient
from devstack.stack import LocalStack


def each(transform: Any) -> Any:
    """Applies `transform` to every item of a list answer."""
    return lambda answer: [transform(dict(item)) for item in answer]


def renamed(old: str, new: str) -> Any:
    return lambda item: {new if key == old else key: value for key, value in item.items()}


def without(name: str) -> Any:
    return lambda item: {key: value for key, value in item.items() if key != name}


def test_origdatablock_id_is_read_from_underscore_id(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    stored = stack.scicat.origdatablocks(dataset)
    assert "id" not in stored[0]  # the simulator, like the OpenAPI, answers `_id` only
    assert [block.id for block in client.get_origdatablocks(dataset)] == [stored[0]["_id"]]


def test_id_virtual_alone_or_beside_underscore_id_is_accepted(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    stored_id = stack.scicat.origdatablocks(dataset)[0]["_id"]
    with stack.scicat.answers_rewritten("GET", "/origdatablocks", each(renamed("_id", "id"))):
        assert [block.id for block in client.get_origdatablocks(dataset)] == [stored_id]
    both = each(lambda item: item | {"id": item["_id"]})
    with stack.scicat.answers_rewritten("GET", "/origdatablocks", both):
        assert [block.id for block in client.get_origdatablocks(dataset)] == [stored_id]


def test_missing_identifier_names_the_field_and_the_endpoint(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    with (
        stack.scicat.answers_rewritten("GET", "/origdatablocks", each(without("_id"))),
        pytest.raises(SciCatError) as raised,
    ):
        client.get_origdatablocks(dataset)
    message = str(raised.value)
    assert "0._id: Field required" in message
    assert "GET " in message and "/origdatablocks" in message


def test_datablock_field_of_another_type_is_named(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    from archiver_dagster_tests.scicat.test_client import create_dto

    client.create_datablock(dataset, create_dto(dataset))
    as_text = each(lambda item: item | {"packedSize": "ten kB"})
    with (
        stack.scicat.answers_rewritten("GET", "/datablocks", as_text),
        pytest.raises(SciCatError, match=r"0\.packedSize: Input should be a valid integer"),
    ):
        client.get_datablocks(dataset)


def test_unused_fields_are_ignored_and_a_null_lifecycle_reads_as_empty(
    stack: LocalStack, client: SciCatClient, dataset: str
) -> None:
    extra = {"datasetlifecycle": None, "someFutureField": {"nested": True}}
    with stack.scicat.answers_rewritten("GET", dataset, lambda answer: answer | extra):
        read = client.get_dataset(dataset)
    assert read.pid == dataset
    assert read.datasetlifecycle.archive_status_message is None


def test_login_answer_without_token_is_refused_by_name(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    with (
        stack.scicat.answers_rewritten("POST", "/auth/login", without("access_token")),
        pytest.raises(SciCatError, match=r"POST .*/auth/login.*access_token: Field required"),
    ):
        make_client().get_dataset(dataset)


def test_login_answer_without_expiry_keeps_the_token_for_an_hour(
    stack: LocalStack, make_client: MakeClient, dataset: str
) -> None:
    client = make_client()
    with stack.scicat.answers_rewritten("POST", "/auth/login", without("expires_in")):
        assert client.get_dataset(dataset).pid == dataset
    logins = [r for r in stack.scicat.requests if r.path.endswith("/auth/login")]
    client.get_dataset(dataset)
    assert [r for r in stack.scicat.requests if r.path.endswith("/auth/login")] == logins


@pytest.mark.parametrize("version", [3, 4])
def test_job_without_id_names_the_field_and_the_endpoint(
    stack: LocalStack, make_client: MakeClient, dataset: str, version: int
) -> None:
    body: dict[str, Any] = {"type": "archive"}
    if version == 4:
        body |= {"jobParams": {"datasetList": [{"pid": dataset, "files": []}]}, "ownerGroup": "g"}
    else:
        body |= {"datasetList": [{"pid": dataset, "files": []}]}
    job = stack.scicat.seed_job(body, api_version=version)  # type: ignore[arg-type]
    client = make_client(jobs_api_prefix=f"/api/v{version}")
    assert get_job(client, job["id"]).id == job["id"]
    with (
        stack.scicat.answers_rewritten("GET", job["id"], without("id")),
        pytest.raises(SciCatError, match=r"(?i)GET .*/jobs/.*: id: Field required"),
    ):
        get_job(client, job["id"])
    listing = "/Jobs/fullquery" if version == 3 else "/jobs"
    with (
        stack.scicat.answers_rewritten("GET", listing, each(without("type"))),
        pytest.raises(SciCatError, match=r"\d+\.type: Field required"),
    ):
        list(list_jobs(client, "archive", "jobSubmitted"))
