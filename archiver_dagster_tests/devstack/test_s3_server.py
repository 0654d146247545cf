"""The local S3 server process: starts, serves, refuses a second start, stops."""

import socket

import pytest
from botocore.exceptions import ClientError

from devstack.s3_server import S3Server


def test_second_start_is_refused_and_stop_ends_the_process() -> None:
    server = S3Server().start(("landing-zone",))
    try:
        assert server.client().list_buckets()["Buckets"][0]["Name"] == "landing-zone"
        process = server._process
        with pytest.raises(RuntimeError, match="already running"):
            server.start()  # would otherwise leave the first process running, unowned
        assert server._process is process
    finally:
        server.stop()
    assert process is not None and process.poll() is not None


def test_a_failed_start_leaves_no_server_running() -> None:
    server = S3Server()
    try:
        with pytest.raises(ClientError, match="InvalidBucketName"):
            server.start(("b",))  # too short for a bucket name
        assert server._process is None
    finally:
        server.stop()  # had the start not failed
    with socket.socket() as probe:  # the port is free again: the process has ended
        probe.bind((server.host, server.port))
