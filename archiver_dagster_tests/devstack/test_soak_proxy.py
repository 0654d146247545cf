"""The soak's S3 proxy injects 503s and mid-transfer resets, over real sockets."""

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from devstack.soak.s3_proxy import FaultyProxy, response_length

BODY = bytes(range(256)) * 4096  # 1 MiB


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Upstream"

    def do_GET(self) -> None:
        self.server.requests += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True
    requests = 0


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def proxy(upstream: _Upstream) -> Iterator[FaultyProxy]:
    host, port = upstream.server_address[:2]
    with FaultyProxy((str(host), int(port)), seed=3) as running:
        yield running


def raw_get(url: str) -> tuple[bytes, BaseException | None]:
    """One GET over a plain socket: what arrived, and the error that ended it (None: EOF)."""
    host, port = url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as error:
            return received, error
    return received, None


def test_forwards_requests_unchanged_over_one_connection(proxy, upstream):
    with requests.Session() as session:
        bodies = [session.get(f"{proxy.url}/big", timeout=5).content for _ in range(3)]

    assert bodies == [BODY] * 3
    counts = proxy.counts()
    assert (counts.connections, counts.requests, counts.refused_503, counts.resets) == (1, 3, 0, 0)
    assert upstream.requests == 3


def test_answers_503_during_the_window_without_reaching_the_server(proxy, upstream):
    proxy.refuse_for(30)
    with requests.Session() as session:
        refused = session.get(f"{proxy.url}/big", timeout=5)
        proxy.refuse_for(0)
        served = session.get(f"{proxy.url}/big", timeout=5)

    assert refused.status_code == 503 and b"<Code>SlowDown</Code>" in refused.content
    assert served.status_code == 200 and served.content == BODY
    assert proxy.counts().refused_503 == 1
    assert upstream.requests == 1


def test_refuses_the_next_requests_of_one_method_only(proxy, upstream):
    proxy.refuse_next(2, method="PUT")
    with requests.Session() as session:
        served = session.get(f"{proxy.url}/big", timeout=5)
        refused = [session.put(f"{proxy.url}/big", data=b"x", timeout=5) for _ in range(2)]
        last = session.get(f"{proxy.url}/big", timeout=5)

    assert served.status_code == last.status_code == 200
    assert [answer.status_code for answer in refused] == [503, 503]
    assert proxy.counts().refused_503 == 2
    assert upstream.requests == 2


def test_resets_connections_in_the_middle_of_the_response(proxy, upstream):
    proxy.reset_fraction(1.0)
    outcomes = [raw_get(proxy.url) for _ in range(4)]

    head = len(b"HTTP/1.1 200 OK\r\n")
    for received, error in outcomes:
        assert isinstance(error, ConnectionResetError)  # a RST, not an orderly close
        assert len(received) < head + len(BODY)
    assert any(len(received) > head for received, _ in outcomes)  # some cut inside the body
    assert proxy.counts().resets == 4
    assert upstream.requests == 4


def test_clear_stops_every_fault(proxy):
    proxy.reset_fraction(1.0)
    proxy.refuse_for(30)
    proxy.refuse_next(5)
    proxy.clear()

    assert requests.get(f"{proxy.url}/big", timeout=5).content == BODY
    assert proxy.counts().resets == proxy.counts().refused_503 == 0


def test_response_length_counts_the_body_only_where_there_is_one():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    assert response_length(head, b"GET /k HTTP/1.1") == len(head) + 10
    assert response_length(head, b"HEAD /k HTTP/1.1") == len(head)
    assert response_length(b"HTTP/1.1 204 No Content\r\n\r\n", b"DELETE /k HTTP/1.1") == 27
