"""`shared_client`: one S3 client per process and configuration."""

import os

import pytest
from dagster_aws.s3 import S3Resource

from archiver_dagster.storage import s3_clients
from archiver_dagster.storage.s3_clients import shared_client


def resource(endpoint: str = "http://127.0.0.1:9", key: str = "a") -> S3Resource:
    return S3Resource(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="secret",
    )


def test_the_same_configuration_gets_the_same_client() -> None:
    first = shared_client(resource())
    assert shared_client(resource()) is first
    assert first.meta.endpoint_url == "http://127.0.0.1:9"


def test_another_configuration_gets_its_own_client() -> None:
    base = shared_client(resource())
    other_endpoint = shared_client(resource(endpoint="http://127.0.0.1:10"))
    other_key = shared_client(resource(key="b"))
    assert len({id(base), id(other_endpoint), id(other_key)}) == 3
    assert other_endpoint.meta.endpoint_url == "http://127.0.0.1:10"
    assert other_key._request_signer._credentials.access_key == "b"


def test_a_forked_process_never_uses_its_parents_client(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = shared_client(resource())
    child_pid = s3_clients._owner_pid + 1
    monkeypatch.setattr(os, "getpid", lambda: child_pid)  # as after a fork
    child = shared_client(resource())
    assert child is not parent
    assert shared_client(resource()) is child
