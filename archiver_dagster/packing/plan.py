"""Files to pack and their grouping into datablocks (one tar file each)."""

from collections import Counter
from collections.abc import Sequence

import pydantic

from archiver_dagster.packing.paths import safe_relative_path

# The kernel's overflow id, "nobody"/"nogroup": the owner of a member whose owner is root or
# unknown, so that a tar extracted by root never creates root-owned files.
NOBODY_ID = 65534
# Read, write and execute for owner, group and others: no setuid, setgid or sticky bit.
PERMISSION_BITS = 0o777
ROOT_NAME = "root"


class FileEntry(pydantic.BaseModel, frozen=True):
    """One file to pack, with the metadata written into its tar member header.

    A header never carries a setuid/setgid/sticky bit nor a root owner (id 0 or the name
    `root`): such an entry is rejected, so no caller can make the tar writer produce one.
    """

    path: str = pydantic.Field(description="Dataset-relative posix path, normalised.")
    size: int = pydantic.Field(ge=0, description="Size in bytes.")
    mtime: float = pydantic.Field(
        default=0.0, allow_inf_nan=False, description="Modification time, seconds since epoch."
    )
    mode: int = pydantic.Field(
        default=0o644, ge=0, le=PERMISSION_BITS, description="Permission bits (rwx only)."
    )
    uid: int = pydantic.Field(default=NOBODY_ID, ge=1, description="Owner user id, never 0.")
    gid: int = pydantic.Field(default=NOBODY_ID, ge=1, description="Owner group id, never 0.")
    uname: str = pydantic.Field(default="", description="Owner user name, never root.")
    gname: str = pydantic.Field(default="", description="Owner group name, never root.")

    @pydantic.field_validator("path")
    @classmethod
    def _validate_path(cls, value: str) -> str:
        """Rejects unsafe paths and normalises the rest."""
        return safe_relative_path(value)

    @pydantic.field_validator("uname", "gname")
    @classmethod
    def _not_root(cls, value: str) -> str:
        """Rejects the owner name `root`."""
        if value == ROOT_NAME:
            raise ValueError("a tar member is never owned by root")
        return value


def plan_datablocks(files: Sequence[FileEntry], target_size: int) -> list[list[FileEntry]]:
    """Groups files, sorted by path, greedily into datablocks of at most `target_size` bytes.

    Sizes are unpacked bytes (sum of file sizes; tar headers and padding are not counted). A file
    larger than `target_size` gets a datablock of its own. The result depends only on the set of
    files, not on their order.

    Raises:
        ValueError: `target_size` is not positive, or two entries share a path.
    """
    if target_size <= 0:
        raise ValueError(f"target_size must be positive, got {target_size}")
    duplicates = sorted(path for path, count in Counter(f.path for f in files).items() if count > 1)
    if duplicates:
        shown = ", ".join(map(repr, duplicates[:10]))
        more = f" and {len(duplicates) - 10} more" if len(duplicates) > 10 else ""
        raise ValueError(f"duplicate file paths: {shown}{more}")
    blocks: list[list[FileEntry]] = []
    current: list[FileEntry] = []
    current_size = 0
    for entry in sorted(files, key=lambda f: f.path):
        if current and current_size + entry.size > target_size:
            blocks.append(current)
            current, current_size = [], 0
        current.append(entry)
        current_size += entry.size
    if current:
        blocks.append(current)
    return blocks
