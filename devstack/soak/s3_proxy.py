"""A TCP proxy in front of the local S3 server that refuses requests and resets connections.

The archiver's `S3_ENDPOINT` points here; the proxy forwards bytes both ways and, when told,
answers requests itself with `503 SlowDown` (as S3 does when overloaded) or resets a fraction
of connections in the middle of a response (RST, as a failing load balancer does). It knows
just enough HTTP/1.1 for that: a request starts when the client sends after the server has
answered, and a response's length is its header block plus `Content-Length`.
"""

import contextlib
import logging
import random
import selectors
import socket
import struct
import threading
import time

from pydantic import BaseModel

from devstack.lifecycle import StartStop

logger = logging.getLogger(__name__)

SLOW_DOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
SLOW_DOWN = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
    b"Content-Length: " + str(len(SLOW_DOWN_BODY)).encode() + b"\r\nConnection: close\r\n\r\n"
) + SLOW_DOWN_BODY
CHUNK = 64 * 1024
POLL_S = 0.2
IO_TIMEOUT_S = 60.0  # a side that neither reads nor writes this long is dropped


class ProxyCounts(BaseModel):
    """What the proxy did so far."""

    connections: int = 0
    requests: int = 0
    refused_503: int = 0
    resets: int = 0


def response_length(head: bytes, request_line: bytes) -> int:
    """Bytes of the response whose header block is `head` (ending with CRLF CRLF)."""
    status = head.split(b" ", 2)[1] if head.count(b" ") >= 1 else b"200"
    if request_line.startswith(b"HEAD ") or status in (b"204", b"304") or status[:1] == b"1":
        return len(head)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + int(value.strip())
    return len(head) + CHUNK  # chunked or unknown: somewhere in its first chunk


def reset(sock: socket.socket) -> None:
    """Closes `sock` with a TCP RST instead of an orderly FIN."""
    with contextlib.suppress(OSError):  # already gone: nothing to reset
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultyProxy(StartStop):
    """Forwards 127.0.0.1:`port` to `upstream`; `refuse_for` and `reset_fraction` inject faults."""

    def __init__(self, upstream: tuple[str, int], port: int = 0, seed: int = 0) -> None:
        self.upstream = upstream
        self._port = port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counts = ProxyCounts()
        self._refuse_until = 0.0
        self._refuse_count = 0
        self._refuse_method = b""
        self._reset_fraction = 0.0
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """The endpoint URL clients use, e.g. http://127.0.0.1:40123."""
        if self._listener is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def counts(self) -> ProxyCounts:
        """A copy of the counters."""
        with self._lock:
            return self._counts.model_copy()

    def refuse_for(self, seconds: float) -> None:
        """Answers every request starting in the next `seconds` with 503 (0: stop now)."""
        with self._lock:
            self._refuse_until = time.monotonic() + seconds if seconds > 0 else 0.0

    def refuse_next(self, count: int, method: str = "") -> None:
        """Answers the next `count` requests with 503, only those of `method` if given."""
        with self._lock:
            self._refuse_count = count
            self._refuse_method = method.encode()

    def reset_fraction(self, fraction: float) -> None:
        """Resets this fraction of the responses from now on, mid-transfer (0: none)."""
        with self._lock:
            self._reset_fraction = fraction

    def clear(self) -> None:
        """Stops injecting faults."""
        self.refuse_for(0)
        self.refuse_next(0)
        self.reset_fraction(0.0)

    def start(self) -> "FaultyProxy":
        """Listens and serves each connection in its own thread."""
        listener = socket.create_server(("127.0.0.1", self._port), backlog=128)
        listener.settimeout(POLL_S)
        self._listener = listener
        self._stopping.clear()
        self._spawn(self._accept_loop, listener)
        return self

    def stop(self) -> None:
        """Stops accepting, closes every connection and waits for the threads (idempotent)."""
        if self._listener is None:
            return
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()
        self._listener = None
        self._threads.clear()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._counts.connections += 1
            self._spawn(self._serve, client)

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called: every connection ends."""
        return self._stopping.is_set()

    def begin_request(self, request_line: bytes = b"") -> tuple[bool, bool]:
        """Counts a new request; returns (refuse it, reset its response)."""
        with self._lock:
            self._counts.requests += 1
            refuse = time.monotonic() < self._refuse_until
            method = request_line.split(b" ", 1)[0]
            wanted = not self._refuse_method or method == self._refuse_method
            if not refuse and self._refuse_count > 0 and wanted:
                self._refuse_count -= 1
                refuse = True
            if refuse:
                self._counts.refused_503 += 1
            doomed = not refuse and self._rng.random() < self._reset_fraction
            return refuse, doomed

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=IO_TIMEOUT_S)
        except OSError:
            reset(client)
            return
        client.settimeout(IO_TIMEOUT_S)
        try:
            _Connection(self, client, upstream).pump()
        except OSError:
            logger.debug("connection ended by an error")  # either side failed or went away
        finally:
            client.close()
            upstream.close()

    def note_reset(self) -> None:
        """Counts a connection reset mid-transfer."""
        with self._lock:
            self._counts.resets += 1

    def reset_point(self, length: int) -> int:
        """Where to cut a response of `length` bytes: uniformly anywhere in it."""
        with self._lock:
            return self._rng.randrange(length) if length > 0 else 0


class _Connection:
    """One client connection and its upstream connection, pumped until either side closes."""

    def __init__(self, proxy: FaultyProxy, client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.answering = True  # the server spoke last: the client's next bytes start a request
        self.request_line = b""
        self.doomed = False  # this response is to be reset
        self.head = b""  # response bytes held back until the reset point is known
        self.reset_at: int | None = None
        self.sent = 0  # response bytes forwarded

    def pump(self) -> None:
        """Forwards both ways until a side closes, the proxy stops, or a fault ends it."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.client, selectors.EVENT_READ)
            selector.register(self.upstream, selectors.EVENT_READ)
            while not self.proxy.stopping:
                for key, _ in selector.select(timeout=POLL_S):
                    data = key.fileobj.recv(CHUNK)  # type: ignore[union-attr]
                    if not data:
                        return
                    done = self.from_client(data) if key.fileobj is self.client else self.down(data)
                    if done:
                        return

    def from_client(self, data: bytes) -> bool:
        """Client bytes: a new request may be refused; returns True when the connection ended."""
        if self.answering:
            self.answering = False
            self.request_line = data.split(b"\r\n", 1)[0]
            refuse, self.doomed = self.proxy.begin_request(self.request_line)
            self.head, self.reset_at, self.sent = b"", None, 0
            if refuse:
                self.refuse()
                return True
        self.upstream.sendall(data)
        return False

    def refuse(self) -> None:
        """Answers 503 and closes gracefully, reading what the client still sends."""
        self.client.sendall(SLOW_DOWN)
        self.client.shutdown(socket.SHUT_WR)
        self.client.settimeout(2.0)
        # the client closed first, or took too long: nothing left to read either way
        with contextlib.suppress(OSError):
            while self.client.recv(CHUNK):
                pass

    def down(self, data: bytes) -> bool:
        """Server bytes: forwarded, or cut at the reset point; returns True when reset."""
        self.answering = True
        if not self.doomed:
            self.client.sendall(data)
            return False
        if self.reset_at is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return False
            length = response_length(self.head[: end + 4], self.request_line)
            self.reset_at = self.proxy.reset_point(length)
            data, self.head = self.head, b""
        cut = self.reset_at - self.sent
        if cut < len(data):
            if cut > 0:
                self.client.sendall(data[:cut])
            self.proxy.note_reset()
            reset(self.client)
            return True
        self.client.sendall(data)
        self.sent += len(data)
        return False
