"""The LTS share's space as the free-space check sees it: now, and at most ever."""

import shutil
from dataclasses import dataclass
from pathlib import Path

from archiver_dagster.errors import DatablockTooLargeError


@dataclass(frozen=True)
class ShareSpace:
    """Bytes of the filesystem holding the LTS root, as `statvfs` reports them."""

    total: int
    used: int
    free: int  # what an unprivileged writer may still use (`f_bavail`)

    @classmethod
    def of(cls, root: Path) -> "ShareSpace":
        """The share's figures now."""
        usage = shutil.disk_usage(root)
        return cls(total=usage.total, used=usage.used, free=usage.free)

    def margin(self, percentage: float) -> int:
        """Bytes the free-space margin keeps free."""
        return int(self.total * percentage / 100.0)

    @property
    def superuser_reserve(self) -> int:
        """Bytes never free for an unprivileged writer (ext4 reserves 5 % for root)."""
        return max(self.total - self.used - self.free, 0)

    def room(self, percentage: float) -> int:
        """Bytes that can be written now without breaking the margin."""
        return self.free - self.margin(percentage)

    def capacity(self, percentage: float) -> int:
        """Bytes that could ever be written above the margin: were every file deleted.

        Space others use now may be freed, so it counts; the margin and the superuser's
        reserve never do. A datablock larger than this waits in vain.
        """
        return self.used + self.free - self.margin(percentage)


def refuse_if_never_fits(root: Path, percentage: str, size: int, what: str) -> None:
    """Raises `DatablockTooLargeError` naming both sizes if `size` exceeds the capacity.

    Never means: not even were every file on the share deleted (`ShareSpace.capacity`);
    waiting for such a datablock would only hold the free-space check until its timeout.
    """
    space = ShareSpace.of(root)
    capacity = space.capacity(float(percentage))
    if size > capacity:
        raise DatablockTooLargeError(
            f"{what} ({size} bytes) is more than the LTS {root} can ever hold: at most "
            f"{max(capacity, 0)} bytes above its {percentage}% free-space margin "
            f"({space.total} bytes in total, {space.margin(float(percentage))} kept free by the "
            f"margin, {space.superuser_reserve} reserved for the superuser)"
        )
