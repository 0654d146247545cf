"""Tar header fields from SciCat's file attribute strings: perm, time, uid/gid."""

import stat
import time
from pathlib import Path

import pytest

from archiver_dagster.archival.file_attributes import (
    DEFAULT_MODE,
    file_entry,
    parse_perm,
    parse_time,
)
from archiver_dagster.archival.manifests import SourceFile
from archiver_dagster.packing.plan import NOBODY_ID

EPOCH_2024 = 1704067200.0  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        # symbolic, as `ls -l` and the ingestor write it
        ("-rw-r--r--", 0o644),
        ("-rwxr-x---", 0o750),
        ("----------", 0o000),
        ("-rwxrwxrwx", 0o777),
        ("drwxr-xr-x", 0o755),
        ("lrwxrwxrwx", 0o777),
        # octal with a leading 0 or 0o
        ("0644", 0o644),
        ("0755", 0o755),
        ("00", 0),
        ("0o600", 0o600),
        ("0O750", 0o750),
        ("04755", 0o4755),
        ("0o100644", 0o644),  # file-type bits are dropped
        ("  0640  ", 0o640),
        # decimal, as the reference writes str(tarinfo.mode)
        ("420", 0o644),
        ("493", 0o755),
        ("33188", 0o644),  # str(os.stat().st_mode) of a regular 0644 file
        ("0", 0),
    ],
)
def test_parse_perm(value: str, mode: int) -> None:
    assert parse_perm(value) == mode


@pytest.mark.parametrize(
    "value",
    [None, "", "rw-r--r--", "-rw-r--r--x", "-rw-q--r--", "0o9", "089", "0-7", "0x1a4", "abc"],
)
def test_parse_perm_falls_back_to_0644(value: str | None) -> None:
    assert parse_perm(value) == DEFAULT_MODE == 0o644


def test_parse_perm_matches_real_file_modes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    for mode in (0o600, 0o640, 0o755, 0o444):
        path.chmod(mode)
        st_mode = path.stat().st_mode
        assert parse_perm(stat.filemode(st_mode)) == mode
        assert parse_perm(str(st_mode)) == mode
        assert parse_perm(oct(st_mode)) == mode


@pytest.mark.parametrize("value", ["-1", "-0644", "99999999999999999999999", "0o-7"])
def test_parse_perm_signed_or_huge_number_falls_back(value: str) -> None:
    assert parse_perm(value) == DEFAULT_MODE


def test_parse_perm_capital_s_is_not_execute() -> None:
    assert parse_perm("-rwSr--r--") & 0o100 == 0
    assert parse_perm("-rw-r--r-T") & 0o001 == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2024-01-01T00:00:00Z", EPOCH_2024),
        ("2024-01-01T00:00:00.000Z", EPOCH_2024),
        ("2024-01-01T00:00:00+00:00", EPOCH_2024),
        ("2024-01-01T01:00:00+01:00", EPOCH_2024),
        ("2023-12-31T19:00:00-05:00", EPOCH_2024),
        ("2024-01-01T05:30:00+05:30", EPOCH_2024),
        ("2024-01-01T00:00:00", EPOCH_2024),  # naive = UTC, not local time
        ("2024-01-01 00:00:00", EPOCH_2024),
        ("2024-01-01", EPOCH_2024),
        ("2024-01-01T00:00:01.5Z", EPOCH_2024 + 1.5),
    ],
)
def test_parse_time(value: str, seconds: float) -> None:
    assert parse_time(value) == seconds


def test_naive_time_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_time("2024-01-01T00:00:00") == EPOCH_2024
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value", ["", "garbage", "2024-13-01T00:00:00Z", "yesterday", "1969-12-31T23:59:59Z"]
)
def test_parse_time_garbage_or_before_epoch_is_zero(value: str) -> None:
    assert parse_time(value) == 0.0


def source(**fields: str | None) -> SourceFile:
    return SourceFile(path="raw/a.bin", size=12, time="2024-01-01T00:00:00Z", **fields)


def test_file_entry_numeric_owner() -> None:
    entry = file_entry(source(uid="1000", gid="2000", perm="-rwxr-x---"))
    assert (entry.uid, entry.gid, entry.uname, entry.gname) == (1000, 2000, "", "")
    assert entry.mode == 0o750
    assert entry.mtime == EPOCH_2024
    assert (entry.path, entry.size) == ("raw/a.bin", 12)


def test_file_entry_named_owner_falls_back_to_nobody_not_root() -> None:
    # Where the name is unknown, tar falls back to the numeric id: never 0 (root).
    entry = file_entry(source(uid="alice", gid="p-group"))
    assert (entry.uid, entry.gid, entry.uname, entry.gname) == (
        NOBODY_ID,
        NOBODY_ID,
        "alice",
        "p-group",
    )


def test_file_entry_missing_attributes_get_defaults() -> None:
    entry = file_entry(SourceFile(path="./a", size=0, time="not a time"))
    assert (entry.uid, entry.gid, entry.uname, entry.gname) == (NOBODY_ID, NOBODY_ID, "", "")
    assert entry.mode == 0o644
    assert entry.mtime == 0.0
    assert entry.path == "a"  # normalised by FileEntry


def test_file_entry_negative_uid_is_kept_as_a_name() -> None:
    entry = file_entry(source(uid="-1", gid=""))
    assert (entry.uid, entry.uname, entry.gid, entry.gname) == (NOBODY_ID, "-1", NOBODY_ID, "")


def test_file_entry_superscript_digit_owner_is_a_name() -> None:
    entry = file_entry(source(uid="\u00b2", gid="1"))
    assert (entry.uid, entry.uname) == (NOBODY_ID, "\u00b2")


@pytest.mark.parametrize("owner", ["0", "00", "000", "root"])
def test_file_entry_root_owner_becomes_nobody(owner: str) -> None:
    entry = file_entry(source(uid=owner, gid=owner))
    assert (entry.uid, entry.gid, entry.uname, entry.gname) == (NOBODY_ID, NOBODY_ID, "", "")


def test_file_entry_other_owners_are_kept() -> None:
    entry = file_entry(source(uid="1", gid="65535"))
    assert (entry.uid, entry.gid) == (1, 65535)
    assert file_entry(source(uid="Root", gid="rooter")).uname == "Root"  # only "root" is root


@pytest.mark.parametrize(
    ("perm", "mode"),
    [
        ("-rwsr-sr-t", 0o755),
        ("-rwSr-Sr-T", 0o644),
        ("04755", 0o755),
        ("02750", 0o750),
        ("01777", 0o777),
        ("0o7777", 0o777),
        (str(0o104755), 0o755),  # decimal st_mode of a setuid regular file
        ("-rw-r-----", 0o640),
    ],
)
def test_file_entry_drops_setuid_setgid_and_sticky_bits(perm: str, mode: int) -> None:
    assert file_entry(source(perm=perm)).mode == mode
