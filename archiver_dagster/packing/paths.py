"""Validation of dataset-relative file paths and tar member names."""

import re

_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


class UnsafePathError(ValueError):
    """A dataset-relative path that must not be packed, extracted or trusted."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"unsafe path {path!r}: {reason}")
        self.path = path
        self.reason = reason


def _reject(path: str, reason: str) -> UnsafePathError:
    """Builds an UnsafePathError quoting the offending path."""
    return UnsafePathError(path, reason)


def safe_relative_path(path: str) -> str:
    """Validates a dataset-relative posix path and returns it without a leading "./".

    Rejects (with `UnsafePathError`) empty and absolute paths, ".." segments, empty segments,
    "." segments other than one leading "./", control characters (ord < 32 or 127), backslashes
    and strings that are not encodable as UTF-8 (lone surrogates).
    """
    if not isinstance(path, str):
        raise UnsafePathError(path, f"expected str, got {type(path).__name__}")
    if not path:
        raise _reject(path, "empty")
    if control := _CONTROL_CHARACTER.search(path):
        raise _reject(path, f"control character U+{ord(control.group()):04X}")
    if "\\" in path:
        raise _reject(path, "backslash (use '/' as separator)")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _reject(path, "not encodable as UTF-8") from exc
    if path.startswith("/"):
        raise _reject(path, "absolute")
    relative = path.removeprefix("./")
    if not relative:
        raise _reject(path, "empty after leading './'")
    for segment in relative.split("/"):
        if segment == "":
            raise _reject(path, "empty segment ('//' or trailing '/')")
        if segment == "..":
            raise _reject(path, "'..' segment")
        if segment == ".":
            raise _reject(path, "'.' segment")
    return relative
