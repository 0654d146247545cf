"""`SciCatSimulator`: the Python handle of the SciCat backend double, for tests and the devstack."""

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from devstack.lifecycle import StartStop
from devstack.scicat_sim.backend import DEFAULT_USERS, SimBackend
from devstack.scicat_sim.server import SimHttpServer

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_USERS", "SciCatSimulator"]


class SciCatSimulator(SimBackend, StartStop):
    """A strict SciCat backend double serving `/api/v3` and `/api/v4` on a local port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
        users: Mapping[str, str] = DEFAULT_USERS,
        token_ttl_s: float = 3600.0,
        jobs_apis: str = "v3v4",
    ) -> None:
        """`jobs_apis` names the jobs APIs served: "v3v4" (both), "v3" or "v4" (one only)."""
        super().__init__(state_file, users, token_ttl_s, jobs_apis)
        self._address = (host, port)
        self._server: SimHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server, without trailing slash."""
        if self._server is None:
            raise RuntimeError("the SciCat simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Binds the port and serves requests in a background thread."""
        if self._server is not None:
            return
        self._server = SimHttpServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scicat-sim",
            daemon=True,
        )
        self._thread.start()
        logger.info("SciCat simulator serving at %s", self.url)

    def stop(self) -> None:
        """Stops serving, closes open connections and the socket; does nothing if stopped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()
