"""Tar header fields derived from SciCat's file attributes (time, uid, gid, perm strings).

What a header keeps (architecture decision 32): the rwx permission bits, numeric ids and
names, except that setuid/setgid/sticky bits are dropped and a root, missing or name-only owner
gets the numeric id `NOBODY_ID`. SciCat keeps the attributes as registered.
"""

import stat
from datetime import UTC, datetime

from archiver_dagster.archival.manifests import SourceFile
from archiver_dagster.packing.plan import NOBODY_ID, PERMISSION_BITS, ROOT_NAME, FileEntry

DEFAULT_MODE = 0o644
MAX_ST_MODE = 0o177777  # file type + permission bits, the largest st_mode


def parse_time(value: str) -> float:
    """Epoch seconds of an RFC 3339 time; naive times are taken as UTC; 0 if unparseable."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return 0.0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return max(parsed.timestamp(), 0.0)


def parse_perm(value: str | None) -> int:
    """Permission bits from a SciCat `perm` string; 0o644 when it cannot be read.

    Accepts `-rw-r--r--`, `0644`/`0o644` (octal) and `420` (decimal, as the reference writes
    `str(tarinfo.mode)`).
    """
    if not value:
        return DEFAULT_MODE
    text = value.strip()
    if len(text) == 10 and all(char in "-dlrwxsStT" for char in text):
        return _symbolic_mode(text[1:])
    digits = text[2:] if text[:2] in ("0o", "0O") else text
    if not (digits.isascii() and digits.isdigit()):
        return DEFAULT_MODE  # signs, spaces, letters: not a mode
    if text != digits or (text.startswith("0") and len(text) > 1):
        if "8" in digits or "9" in digits:
            return DEFAULT_MODE
        number = int(digits, 8)
    else:
        number = int(digits)
    if number > MAX_ST_MODE:
        return DEFAULT_MODE
    return stat.S_IMODE(number)


# Position of each permission character in `rwxrwxrwx` and the special bit its s/t stands for.
_SPECIAL_BITS = {2: stat.S_ISUID, 5: stat.S_ISGID, 8: stat.S_ISVTX}


def _symbolic_mode(chars: str) -> int:
    mode = 0
    for position, char in enumerate(chars):
        if char in "rwxst":
            mode |= 1 << (8 - position)
        if char in "sStT" and position in _SPECIAL_BITS:
            mode |= _SPECIAL_BITS[position]
    return mode


def _owner(value: str | None) -> tuple[int, str]:
    """The (id, name) a header gets for a SciCat uid/gid string; root becomes nobody.

    A name goes with the id `NOBODY_ID`: tar falls back to the id where the name is unknown.
    """
    if not value or value == ROOT_NAME:
        return NOBODY_ID, ""
    if value.isascii() and value.isdigit():
        number = int(value)
        return (number or NOBODY_ID), ""
    return NOBODY_ID, value


def file_entry(source: SourceFile) -> FileEntry:
    """The tar member description of a source file: no special mode bits, no root owner."""
    uid, uname = _owner(source.uid)
    gid, gname = _owner(source.gid)
    return FileEntry(
        path=source.path,
        size=source.size,
        mtime=parse_time(source.time),
        mode=parse_perm(source.perm) & PERMISSION_BITS,
        uid=uid,
        gid=gid,
        uname=uname,
        gname=gname,
    )
