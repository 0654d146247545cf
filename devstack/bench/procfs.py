"""Process accounting from /proc: storage I/O counters, peak RSS, descendants, file systems.

`read_bytes`/`write_bytes` count what reached the block layer (page-cache hits are free,
sockets never count); when a process is reaped its counters are added to its parent's, so
the counters of a live ancestor include every descendant that has already exited.
"""

import os
import threading
from pathlib import Path

IO_FIELDS = ("rchar", "wchar", "read_bytes", "write_bytes", "cancelled_write_bytes")


def read_io(pid: int | str = "self") -> dict[str, int]:
    """The /proc/<pid>/io counters (zeros if the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return dict.fromkeys(IO_FIELDS, 0)
    values = dict(line.split(": ") for line in text.splitlines() if ": " in line)
    return {field: int(values.get(field, 0)) for field in IO_FIELDS}


def add_io(total: dict[str, int], more: dict[str, int], sign: int = 1) -> dict[str, int]:
    """Adds (or subtracts) one set of counters to another, in place; returns it."""
    for field in IO_FIELDS:
        total[field] = total.get(field, 0) + sign * more.get(field, 0)
    return total


def parent_of(pid: int) -> int | None:
    """The parent pid of `pid`, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, by parent pid, from one scan of /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (ppid := parent_of(int(entry.name))) is not None:
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """Live descendants of `root` (not `root` itself), in `children` (default: /proc now)."""
    if children is None:
        children = children_by_parent()
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(pid: int | str = "self", children: bool = True) -> float:
    """User + system CPU seconds of a process (plus its reaped descendants), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15] if children) or sum(
        int(value) for value in fields[11:13]
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def find_descendant(root: int, *words: str) -> int | None:
    """The first live descendant of `root` whose command line contains all `words`."""
    for pid in descendants(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(word in command for word in words):
            return pid
    return None


def peak_rss_bytes(pid: int | str = "self") -> int:
    """VmHWM (peak resident set size) of a process in bytes, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def filesystem_type(path: Path) -> str:
    """The type of the file system holding `path` (longest matching mount point)."""
    target = str(path.resolve())
    best, best_type = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        mount, fs_type = fields[1], fields[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, best_type = mount, fs_type
    return best_type


class RssSampler:
    """Samples the peak RSS of a process tree every `interval_s` in a background thread."""

    def __init__(self, root: int, interval_s: float = 0.02) -> None:
        self.root = root
        self.interval_s = interval_s
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in [self.root, *descendants(self.root)]:
                if rss := peak_rss_bytes(pid):
                    self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            self._stop.wait(self.interval_s)

    def start(self) -> "RssSampler":
        """Starts sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops sampling and waits for the thread."""
        self._stop.set()
        self._thread.join()

    def largest_other_than_root(self) -> int:
        """The largest peak RSS among the root's descendants (step processes)."""
        return max((rss for pid, rss in self.peaks.items() if pid != self.root), default=0)


def folder_bytes(root: Path) -> int:
    """Bytes of the regular files under `root` (files vanishing meanwhile count 0)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size  # noqa: PTH116, PTH118
            except OSError:
                continue
    return total


class FolderSampler:
    """Samples the peak size of the files under a folder every `interval_s` (a thread)."""

    def __init__(self, root: Path, interval_s: float = 0.05) -> None:
        self.root = root
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, folder_bytes(self.root))
            self._stop.wait(self.interval_s)

    def start(self) -> "FolderSampler":
        """Starts sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops sampling and waits for the thread."""
        self._stop.set()
        self._thread.join()
