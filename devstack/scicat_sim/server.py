"""The HTTP front of the simulator: a threading server whose handler feeds a `SimBackend`."""

import json
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from devstack.scicat_sim.backend import SimBackend
from devstack.scicat_sim.routes import ApiRequest

logger = logging.getLogger(__name__)


class SimHttpServer(ThreadingHTTPServer):
    """A threading HTTP server that can close its open keep-alive connections on stop."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        backend: SimBackend,
    ) -> None:
        super().__init__(address, _Handler)
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remembers the connection, then serves it in a new thread."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forgets the connection, then closes it."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone in the middle of a request (a killed process) is logged, not printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("client %s went away: %s", client_address, sys.exc_info()[1])
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shuts down every connection still open, so no handler thread outlives the server."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("connection already closed")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body are separate writes
    timeout = 30
    server: SimHttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        raw_path, _, raw_query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        request = ApiRequest(
            self.command,
            raw_path,
            dict(parse_qsl(raw_query, keep_blank_values=True)),
            self.headers.get("Content-Type", ""),
            self.headers.get("Authorization", ""),
            self.rfile.read(length) if length > 0 else b"",
        )
        response, fault = self.server.backend.exchange(request)
        payload = json.dumps(response.payload).encode("utf-8")
        if fault is not None and fault.stall_s > 0:
            time.sleep(fault.stall_s)
        self.send_response(response.status)
        if fault is not None and fault.retry_after_s is not None:
            self.send_header("Retry-After", str(fault.retry_after_s))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
