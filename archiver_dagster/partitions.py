"""The `datasets` partition set (key = SciCat PID) and PID validation."""

import unicodedata

from dagster import DynamicPartitionsDefinition

DATASETS = "datasets"
datasets_partitions = DynamicPartitionsDefinition(name=DATASETS)

# A PID names files (the tar `{pid with / -> -}_{i}.tar.partial` on scratch and on the LTS): file
# names are limited to 255 bytes, so a longer PID is refused up front instead of failing half-way
# through a run. Scratch folders and manifests are named by `storage.local_names`, bounded anyway.
MAX_PID_LENGTH = 200

# Folder names of the layout, `{prefix}/datasets/{pid}/raw_files/{path}` (landing zone) and
# `{prefix}/datasets/{pid}/datablocks/{name}.tar` (LTS). As a PID segment they would let two
# datasets share a key: `x` with file `y/raw_files/f` and `x/raw_files/y` with file `f`.
RESERVED_SEGMENTS = ("raw_files", "datablocks")


class InvalidPidError(ValueError):
    """A PID that cannot be used to build paths, keys or URLs safely."""


def validate_retrievable_pid(pid: str) -> str:
    """Returns `pid` unchanged if it is safe as a path below a dataset folder, else raises.

    A `/` inside a PID is fine (handle prefixes such as `20.500.11935/...`); `..` or `.`
    segments, absolute paths, empty segments, backslashes and control characters are not.
    Enough to read what is already archived; new archives need `validate_pid`.
    """
    if not isinstance(pid, str) or not pid:
        raise InvalidPidError("PID is empty")
    if len(pid.encode("utf-8", errors="surrogatepass")) > MAX_PID_LENGTH:
        raise InvalidPidError(f"PID is longer than {MAX_PID_LENGTH} bytes")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in pid):
        raise InvalidPidError(f"PID {pid!r} contains control or invisible characters")
    if "\\" in pid:
        raise InvalidPidError(f"PID {pid!r} contains a backslash")
    if pid.startswith("/"):
        raise InvalidPidError(f"PID {pid!r} is an absolute path")
    if pid != pid.strip():
        raise InvalidPidError(f"PID {pid!r} has leading or trailing whitespace")
    for segment in pid.split("/"):
        if segment == "":
            raise InvalidPidError(f"PID {pid!r} has an empty path segment")
        if segment in (".", ".."):
            raise InvalidPidError(f"PID {pid!r} has a {segment!r} path segment")
    return pid


def validate_pid(pid: str) -> str:
    """Returns `pid` unchanged if a dataset of this PID can be archived, else raises.

    On top of `validate_retrievable_pid`: no segment may be a folder name of the layout
    (`RESERVED_SEGMENTS`), so the first `raw_files` (or `datablocks`) segment of a key always
    ends the PID and no two datasets' keys or folders overlap.
    """
    validate_retrievable_pid(pid)
    for segment in pid.split("/"):
        if segment in RESERVED_SEGMENTS:
            raise InvalidPidError(
                f"PID {pid!r} has a {segment!r} segment, a folder name of the storage layout: "
                "its files or datablocks would mix with those of the dataset named by the PID's "
                "start"
            )
    return pid
