"""Tar header fields derived from SciCat's file attributes (time, uid, gid, perm strings)."""

import stat
from datetime import UTC, datetime

from archiver_dagster.archival.manifests import SourceFile
from archiver_dagster.packing.plan import FileEntry

DEFAULT_MODE = 0o644


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
        mode = 0
        for position, char in enumerate(text[1:]):
            if char != "-":
                mode |= 1 << (8 - position)
        return mode
    try:
        if text.startswith(("0o", "0O")):
            return int(text[2:], 8) & 0o7777
        if text.startswith("0") and len(text) > 1:
            return int(text, 8) & 0o7777
        return stat.S_IMODE(int(text))
    except ValueError:
        return DEFAULT_MODE


def _owner(value: str | None) -> tuple[int, str]:
    if not value:
        return 0, ""
    if value.isdigit():
        return int(value), ""
    return 0, value


def file_entry(source: SourceFile) -> FileEntry:
    """The tar member description of a source file."""
    uid, uname = _owner(source.uid)
    gid, gname = _owner(source.gid)
    return FileEntry(
        path=source.path,
        size=source.size,
        mtime=parse_time(source.time),
        mode=parse_perm(source.perm),
        uid=uid,
        gid=gid,
        uname=uname,
        gname=gname,
    )
