"""`with` support for the local services: entering starts one, leaving always stops it."""

from types import TracebackType
from typing import Self


class StartStop:
    """Mixin for a service with `start()` and an idempotent `stop()`."""

    def start(self) -> object:
        """Starts the service."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stops the service; safe to call more than once."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
