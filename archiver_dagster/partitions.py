"""The `datasets` partition set (key = SciCat PID) and PID validation."""

import unicodedata

from dagster import DynamicPartitionsDefinition

DATASETS = "datasets"
datasets_partitions = DynamicPartitionsDefinition(name=DATASETS)

# A PID names files (the tar `{pid with / -> -}_{i}.tar`, the manifest): file names are limited
# to 255 bytes, so a longer PID is refused up front instead of failing half-way through a run.
MAX_PID_LENGTH = 200


class InvalidPidError(ValueError):
    """A PID that cannot be used to build paths, keys or URLs safely."""


def validate_pid(pid: str) -> str:
    """Returns `pid` unchanged if it is safe as a path below a dataset folder, else raises.

    A `/` inside a PID is fine (handle prefixes such as `20.500.11935/...`); `..` or `.`
    segments, absolute paths, empty segments, backslashes and control characters are not.
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
