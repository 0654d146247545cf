"""Thread-safe in-memory state of the simulator, optionally persisted to a JSON file."""

import json
import logging
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Record = dict[str, Any]


@dataclass
class SimState:
    """Every collection the simulator keeps, each a mapping from id to JSON record."""

    datasets: dict[str, Record] = field(default_factory=dict)
    origdatablocks: dict[str, Record] = field(default_factory=dict)
    datablocks: dict[str, Record] = field(default_factory=dict)
    jobs: dict[str, Record] = field(default_factory=dict)
    tokens: dict[str, Record] = field(default_factory=dict)


class JsonStore:
    """Holds a `SimState` behind a lock; saves it atomically after every mutation."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._path = path
        self._state = self._load(path) if path is not None and path.exists() else SimState()

    @staticmethod
    def _load(path: Path) -> SimState:
        data = json.loads(path.read_text(encoding="utf-8"))
        logger.info("SciCat simulator state loaded from %s", path)
        return SimState(**{name: data.get(name, {}) for name in asdict(SimState())})

    @contextmanager
    def read(self) -> Iterator[SimState]:
        """Gives exclusive access to the state for reading."""
        with self._lock:
            yield self._state

    @contextmanager
    def write(self) -> Iterator[SimState]:
        """Gives exclusive access to the state for a mutation; saves it if the block succeeds."""
        with self._lock:
            yield self._state
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=self._path.parent, prefix=self._path.name, delete=False
        ) as tmp:
            try:
                json.dump(asdict(self._state), tmp, indent=1)
            except BaseException:
                Path(tmp.name).unlink()
                raise
        Path(tmp.name).replace(self._path)  # atomic rename
