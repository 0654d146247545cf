"""Fixtures of the SciCat client tests: clients on the simulator and a seeded dataset."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from archiver_dagster.scicat.client import SciCatClient
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack

TIME = "2024-01-01T00:00:00+00:00"

MakeClient = Callable[..., SciCatClient]


@pytest.fixture
def make_client(stack: LocalStack) -> Iterator[MakeClient]:
    """Clients on the simulator with fast retries; all closed after the test."""
    clients: list[SciCatClient] = []

    def make(**options: Any) -> SciCatClient:
        settings: dict[str, Any] = {"timeout_s": 5.0, "retries": 3, "backoff_s": 0.01}
        client = SciCatClient(
            options.pop("endpoint", stack.scicat.url),
            "/api/v3",
            options.pop("jobs_api_prefix", "/api/v3"),
            SCICAT_USER,
            options.pop("password", SCICAT_PASSWORD),
            **{**settings, **options},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> SciCatClient:
    return make_client()


@pytest.fixture
def short_tokens(stack: LocalStack) -> Iterator[None]:
    """Tokens issued during the test live 1 s."""
    previous = stack.scicat.token_ttl_s
    stack.scicat.token_ttl_s = 1
    try:
        yield
    finally:
        stack.scicat.token_ttl_s = previous


@pytest.fixture
def dataset(stack: LocalStack, unique_pid: Callable[[], str]) -> str:
    """A dataset with one origdatablock of two files; returns its PID."""
    return seed(stack, unique_pid())


def seed(stack: LocalStack, pid: str) -> str:
    stack.scicat.seed_dataset(
        {
            "pid": pid,
            "type": "raw",
            "owner": "Owner",
            "ownerGroup": "p-group",
            "contactEmail": "owner@example.org",
            "sourceFolder": "/data/x",
            "creationTime": TIME,
            "datasetName": "client test",
        }
    )
    stack.scicat.seed_origdatablock(
        pid,
        {
            "size": 30,
            "dataFileList": [
                {"path": "raw/a.bin", "size": 10, "time": TIME, "uid": "1000", "perm": "0644"},
                {"path": "raw/b.bin", "size": 20, "time": TIME},
            ],
        },
    )
    return pid
