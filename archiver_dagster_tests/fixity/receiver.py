"""A local HTTP receiver standing in for a Slack/Mattermost incoming webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN_PATH = "/hooks/T0AB/B0CD/s3cr3t-webhook-token"


class WebhookReceiver:
    """Records every JSON body POSTed to it; answers `status` (200 unless told)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.content_types.append(self.headers.get("Content-Type", ""))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The webhook's URL, with its secret token in the path as Slack's have."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{TOKEN_PATH}"

    @property
    def texts(self) -> list[str]:
        """The `text` of every alert received."""
        return [body["text"] for body in self.bodies]

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
