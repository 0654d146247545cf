"""A real S3-compatible HTTP server on 127.0.0.1 (moto's server) in its own process."""

import socket
import subprocess
import sys
import time

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from devstack.lifecycle import StartStop

ACCESS_KEY_ID = "devstack-access-key"
SECRET_ACCESS_KEY = "devstack-secret-key"
REGION = "eu-west-1"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float, process: subprocess.Popen[bytes]) -> None:
    """Blocks until `host:port` accepts connections; fails early if `process` died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"S3 server exited with code {process.returncode} during start")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"S3 server did not listen on {host}:{port} within {timeout_s} s")


class S3Server(StartStop):
    """moto's S3 server as a child process; `start()` waits until it answers."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. http://127.0.0.1:40123."""
        return f"http://{self.host}:{self.port}"

    def start(self, buckets: tuple[str, ...] = ()) -> "S3Server":
        """Starts the server and creates `buckets`.

        Raises RuntimeError if it is already running: a second process would replace the first
        without stopping it (`with S3Server().start()` starts twice; use one or the other).
        """
        if self._process is not None:
            raise RuntimeError(f"S3 server on {self.url} is already running")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.host, self.port, 30.0, self._process)
            client = self.client()
            for bucket in buckets:
                client.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
                )
        except BaseException:
            self.stop()  # never leave a server running that nobody owns
            raise
        return self

    def client(self) -> BaseClient:
        """A boto3 S3 client for this server."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def stop(self) -> None:
        """Stops the server process (idempotent)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
