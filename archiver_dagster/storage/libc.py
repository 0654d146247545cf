"""C library calls that Python's `os` does not bind (`sync_file_range`, `fallocate`)."""

import ctypes
from collections.abc import Callable
from typing import Any

LibcFunction = Callable[..., int]


def libc_function(
    name: str, argtypes: list[Any], restype: Any = ctypes.c_int
) -> LibcFunction | None:
    """The C library's `name`, setting errno for `ctypes.get_errno()`; None if there is none."""
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = restype
    return function
