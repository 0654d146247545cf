"""Long-term storage on a mounted share: free-space wait, durable copy-in, uncached read-back."""

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, field_validator

from archiver_dagster.errors import DatablockTooLargeError, LTSFullError
from archiver_dagster.settings import parse_setting
from archiver_dagster.storage.direct_read import DirectFileReader, drop_page_cache
from archiver_dagster.storage.durable_copy import (
    DurableWriter,
    LTSError,
    copy_file_durably,
    durable_partial,
    partial_path,
)
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts_paths import resolve_datablock
from archiver_dagster.storage.lts_space import ShareSpace, refuse_if_never_fits
from archiver_dagster.storage.preallocate import allocated_bytes, preallocate


class LTSResource(ConfigurableResource):
    """The LTS share (`LTS_*` variables) and its waits."""

    storage_root: str = Field(description="Mount point of the LTS share (LTS_STORAGE_ROOT).")
    dataset_layout: DatasetLayoutResource = Field(
        description="Where each dataset's datablocks are: the storage prefix, shared with the "
        "landing zone and scratch."
    )
    free_space_percentage: str = Field(
        default="20", description="Free space kept, in % (LTS_FREE_SPACE_PERCENTAGE)."
    )
    free_space_timeout_s: int = Field(
        default=86400,
        description="Longest wait for free space (ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S).",
    )
    file_timeout_s: int = Field(
        default=600,
        description="Longest wait for a file to be readable (ARCHIVER_LTS_FILE_TIMEOUT_S).",
    )
    read_retries: int = Field(default=5, description="Read-back retries after an I/O error.")
    read_retry_delay_s: int = Field(
        default=60,
        description="First read-back retry delay, doubling (ARCHIVER_LTS_READ_RETRY_DELAY_S).",
    )
    wait_before_verify_s: int = Field(
        default=180, description="Settle time before read-back (ARCHIVER_LTS_WAIT_BEFORE_VERIFY_S)."
    )

    @field_validator("free_space_percentage", mode="before")
    @classmethod
    def _check_percentage(cls, value: str) -> str:
        if not isinstance(value, EnvVar):  # placeholders are validated once resolved
            parse_setting("LTS_FREE_SPACE_PERCENTAGE", value)
        return value

    @property
    def root(self) -> Path:
        """The LTS root folder."""
        return Path(self.storage_root)

    def layout(self, pid: str) -> DatasetLayout:
        """The dataset's layout under the storage prefix (validates the PID)."""
        return self.dataset_layout.of(pid)

    def dataset_folder(self, pid: str) -> Path:
        """Absolute folder of the dataset's datablocks on the LTS."""
        return self.root / self.layout(pid).datablocks_folder

    def path_of(self, archive_id: str) -> Path:
        """Absolute LTS path of a datablock from its archiveId."""
        return self.root / archive_id

    def has_room_for(self, size: int) -> bool:
        """Whether writing `size` bytes keeps the configured free-space margin."""
        return ShareSpace.of(self.root).room(float(self.free_space_percentage)) >= size

    def check_can_ever_hold(self, size: int, what: str = "the space asked for") -> None:
        """Raises `DatablockTooLargeError` if `size` bytes could never fit above the margin."""
        refuse_if_never_fits(self.root, self.free_space_percentage, size, what)

    def wait_for_room(self, size: int, poll_s: float = 1.0, max_poll_s: float = 60.0) -> float:
        """Blocks until `size` bytes fit above the margin; returns seconds waited.

        Polls with exponential backoff (1 s doubling to 60 s) instead of the reference's fixed
        30 s sleep; raises `LTSFullError` after `free_space_timeout_s`, and
        `DatablockTooLargeError` at once if the wait could never end.
        """
        self.check_can_ever_hold(size)
        start = time.monotonic()
        delay = poll_s
        while not self.has_room_for(size):
            waited = time.monotonic() - start
            if waited >= self.free_space_timeout_s:
                space = ShareSpace.of(self.root)
                raise LTSFullError(
                    f"LTS {self.root} has {space.free} bytes free of {space.total}; writing "
                    f"{size} bytes would break the {self.free_space_percentage}% margin "
                    f"(waited {waited:.0f} s)"
                )
            time.sleep(min(delay, max(self.free_space_timeout_s - waited, 0.0)))
            delay = min(delay * 2, max_poll_s)
        return time.monotonic() - start

    def reserve_room(self, archive_id: str, size: int) -> tuple[float, bool]:
        """Waits until `size` bytes fit above the margin, then takes them at once.

        The space is taken by allocating the copy's `.partial` file at full size, so the next
        datablock's check (in this run or another, on this host or another) sees it gone even
        before the copy has written a byte: without it, two datablocks checked before either
        was copied could together break the margin or fill the share. Space this datablock
        already holds (a reservation of an earlier attempt) counts as its own. Returns (seconds
        waited, whether the filesystem could reserve; if not, the copy takes the space as it
        writes, and concurrent copies can overcommit it).
        """
        partial = partial_path(self.path_of(archive_id))
        try:
            self.check_can_ever_hold(size, f"datablock {archive_id}")
        except DatablockTooLargeError:
            # An earlier attempt's reservation cannot help; if it cannot be removed now, the
            # dataset's cleanup or next attempt removes it.
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise
        try:
            partial.parent.mkdir(parents=True, exist_ok=True)
            created = not partial.exists()
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as error:
            raise LTSError(f"cannot reserve {size} bytes at {partial}: {error}") from error
        try:
            held = min(allocated_bytes(fd), size)
            waited = self.wait_for_room(size - held) if held < size else 0.0
            reserved = preallocate(fd, size)
            if not reserved and created:
                partial.unlink()  # nothing held: the copy creates the file itself
        except BaseException as error:
            if created:
                partial.unlink(missing_ok=True)
            if isinstance(error, OSError):  # ENOSPC: the space went elsewhere meanwhile
                raise LTSError(f"cannot reserve {size} bytes at {partial}: {error}") from error
            raise
        finally:
            os.close(fd)
        return waited, reserved

    def store(self, source: Path, archive_id: str) -> Path:
        """Copies a tar to its place on the LTS, durably; returns the LTS path."""
        dest = self.path_of(archive_id)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_file_durably(source, dest)
            drop_page_cache(dest)
        except OSError as error:
            raise LTSError(f"cannot write {dest}: {error}") from error
        return dest

    @contextlib.contextmanager
    def writing(
        self, archive_id: str, keep_partial_on: Callable[[BaseException], bool]
    ) -> Iterator[DurableWriter]:
        """Writes a datablock in place on the LTS, durably, as `store` copies one.

        Into its `.partial` file (over the space `reserve_room` took), flushed, then renamed;
        a failure of the block removes the partial file unless `keep_partial_on(error)`.
        """
        dest = self.path_of(archive_id)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LTSError(f"cannot write {dest}: {error}") from error
        with durable_partial(dest, keep_partial_on) as writer:
            yield writer
        try:
            drop_page_cache(dest)
        except OSError as error:
            raise LTSError(f"cannot evict {dest} from the page cache: {error}") from error

    def open_uncached(self, archive_id: str, expected_size: int) -> BinaryIO:
        """Opens a datablock for read-back from the media (`O_DIRECT`), waiting until readable."""
        return self._open_when_readable(lambda: self.path_of(archive_id), expected_size)

    def open_registered(self, pid: str, archive_id: str, expected_size: int) -> BinaryIO:
        """Like `open_uncached`, for an archiveId read from SciCat: only in the dataset's folder.

        Raises `ArchiveIdOutsideDatasetError` (not retried) when the archiveId, or the file it
        names once symbolic links are resolved, is outside; checked again at every attempt.
        """
        layout = self.layout(pid)
        return self._open_when_readable(
            lambda: resolve_datablock(self.root, layout, archive_id), expected_size
        )

    def _open_when_readable(self, locate: Callable[[], Path], expected_size: int) -> BinaryIO:
        """Opens the file `locate` names once it has `expected_size` bytes, within the timeout."""
        deadline = time.monotonic() + self.file_timeout_s
        delay = 0.5
        while True:
            path = locate()
            try:
                if path.stat().st_size == expected_size:
                    return cast(BinaryIO, DirectFileReader(path))
                problem = f"has {path.stat().st_size} bytes, expected {expected_size}"
            except OSError as error:
                problem = f"is not readable: {error}"
            if time.monotonic() >= deadline:
                raise LTSError(f"{path} {problem} after {self.file_timeout_s} s")
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 30.0)

    def _own_files(self, pid: str) -> list[Path]:
        """The dataset's datablock files (and partial copies); never another dataset's.

        Only regular files named after this PID count: a dataset whose PID nests in this one
        (`p/datablocks`) has its own sub-folder here, which is left alone.
        """
        folder = self.dataset_folder(pid)
        if not folder.is_dir():
            return []
        prefix = self.layout(pid).datablock_prefix
        return sorted(
            entry
            for entry in folder.iterdir()
            if entry.is_file() and not entry.is_symlink() and entry.name.startswith(prefix)
        )

    def remove_dataset(self, pid: str) -> bool:
        """Deletes the dataset's datablocks from the LTS (failure cleanup); True if any existed."""
        files = self._own_files(pid)
        for path in files:
            path.unlink()
        folder = self.dataset_folder(pid)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        return bool(files)

    def remove_stale(self, pid: str, keep: set[str]) -> list[str]:
        """Deletes the dataset's files whose names are not in `keep`; returns their names."""
        removed = [path for path in self._own_files(pid) if path.name not in keep]
        for path in removed:
            path.unlink()
        return [path.name for path in removed]
