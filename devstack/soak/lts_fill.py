"""An LTS that fills up: a small tmpfs mounted as the LTS root, and a filler file taking it all.

Mounting needs root. Without it the LTS stays a folder on the machine's disk, which the soak
cannot fill, and the `lts_full` fault is reported as not injected.
"""

import contextlib
import os
import subprocess
from pathlib import Path

FILLER_NAME = ".soak-filler"


class FillableLTS:
    """The LTS root on a tmpfs of a given size; `fill()` leaves no byte free, `drain()` frees."""

    def __init__(self, root: Path, size_bytes: int) -> None:
        self.root = root
        self.size_bytes = size_bytes
        self.mounted = False

    @property
    def filler(self) -> Path:
        """The file that takes the free space (outside the storage prefix)."""
        return self.root / FILLER_NAME

    def mount(self) -> str | None:
        """Mounts the tmpfs on the (empty) root; returns why not, or None when mounted."""
        if os.geteuid() != 0:
            return "not root: mounting a tmpfs as the LTS needs root"
        self.root.mkdir(parents=True, exist_ok=True)
        if any(self.root.iterdir()):
            return f"{self.root} is not empty"
        command = ["mount", "-t", "tmpfs", "-o", f"size={self.size_bytes}", "tmpfs", str(self.root)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"mount failed: {done.stderr.strip() or done.returncode}"
        self.mounted = True
        return None

    def free_bytes(self) -> int:
        """Bytes an unprivileged writer could still use."""
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def fill(self) -> int:
        """Allocates every free byte to the filler; returns the bytes taken."""
        free = self.free_bytes()
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if free > 0:
                os.posix_fallocate(fd, 0, free)
        finally:
            os.close(fd)
        return free

    def drain(self) -> None:
        """Removes the filler (idempotent)."""
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        """Unmounts the tmpfs, lazily if something still holds it open (idempotent)."""
        if not self.mounted:
            return
        self.drain()
        done = subprocess.run(["umount", str(self.root)], capture_output=True, check=False)
        if done.returncode != 0:
            with contextlib.suppress(OSError):
                subprocess.run(["umount", "--lazy", str(self.root)], check=False)
        self.mounted = False
