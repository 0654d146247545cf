"""A datablock the LTS can never hold above its margin fails at once, on a real folder.

The share's size is the real one of the test machine's temporary folder; margins are chosen
from its current figures (as in test_lts.py), so no size is faked.
"""

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from archiver_dagster.errors import DatablockTooLargeError, LTSFullError
from archiver_dagster.storage.durable_copy import PARTIAL_SUFFIX
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource

PREFIX = "openem-network"
PID = "20.500.12345/capacity-test"
MIB = 1024 * 1024
GIB = 1024 * MIB
ARCHIVE_ID = DatasetLayout(PREFIX, PID).archive_id(0)


def lts(root: Path, **fields: Any) -> LTSResource:
    # A long timeout: a check that waits instead of failing at once shows in the duration.
    settings: dict[str, Any] = {
        "storage_root": str(root),
        "dataset_layout": DatasetLayoutResource(),
        "free_space_percentage": "0",
        "free_space_timeout_s": 20,
    }
    return LTSResource(**{**settings, **fields})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "lts"
    folder.mkdir()
    return folder


def could_ever_hold(root: Path) -> int:
    """Bytes the archiver could have free on `root` were every file deleted (no margin)."""
    usage = shutil.disk_usage(root)
    return usage.used + usage.free  # the rest of the total is reserved for the superuser


def stated_capacity(message: str) -> int:
    found = re.search(r"can ever hold: at most (\d+) bytes", message)
    assert found, message
    return int(found.group(1))


def test_a_datablock_larger_than_the_whole_share_fails_at_once(root: Path) -> None:
    size = shutil.disk_usage(root).total + 1
    started = time.monotonic()
    with pytest.raises(DatablockTooLargeError) as info:
        lts(root).reserve_room(ARCHIVE_ID, size)
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert f"datablock {ARCHIVE_ID} ({size} bytes) is more than the LTS {root}" in message
    assert stated_capacity(message) == pytest.approx(could_ever_hold(root), rel=0.001)
    assert info.value.kind == "system" and not info.value.retriable
    assert not (root / (ARCHIVE_ID + PARTIAL_SUFFIX)).exists()


def test_what_the_margin_keeps_free_is_never_available(root: Path) -> None:
    # A 10 % margin: what it keeps free never counts, even on an otherwise empty share.
    usage = shutil.disk_usage(root)
    capacity = could_ever_hold(root) - usage.total // 10
    size = max(capacity, 0) + 64 * MIB
    started = time.monotonic()
    with pytest.raises(DatablockTooLargeError) as info:
        lts(root, free_space_percentage="10").reserve_room(ARCHIVE_ID, size)
    assert time.monotonic() - started < 2
    assert f"({size} bytes) is more than" in str(info.value)
    assert "10% free-space margin" in str(info.value)
    assert stated_capacity(str(info.value)) == pytest.approx(max(capacity, 0), abs=4 * MIB)


def test_space_that_others_use_may_be_freed_so_the_check_waits(root: Path) -> None:
    # 1 GiB short now (others on the disk come and go); 8 MiB would fit once others free
    # their space: the check waits, then times out.
    usage = shutil.disk_usage(root)
    assert usage.used > 2 * GIB  # the machine's own files take far more than the datablock
    percentage = f"{(usage.free + GIB) / usage.total * 100:.9f}"
    resource = lts(root, free_space_percentage=percentage, free_space_timeout_s=1)
    with pytest.raises(LTSFullError, match=r"would break .* margin \(waited 1 s\)"):
        resource.reserve_room(ARCHIVE_ID, 8 * MIB)


def test_an_earlier_reservation_of_a_datablock_that_can_never_fit_is_released(
    root: Path,
) -> None:
    resource = lts(root)
    assert resource.reserve_room(ARCHIVE_ID, 8 * MIB)[1]  # an earlier, smaller attempt
    partial = root / (ARCHIVE_ID + PARTIAL_SUFFIX)
    assert partial.stat().st_blocks * 512 >= 8 * MIB

    with pytest.raises(DatablockTooLargeError):
        resource.reserve_room(ARCHIVE_ID, shutil.disk_usage(root).total + 1)
    assert not partial.exists()


def test_waiting_for_room_that_can_never_be_fails_at_once(root: Path) -> None:
    size = shutil.disk_usage(root).total + 1
    started = time.monotonic()
    expected = rf"^the space asked for \({size} bytes\) is more than the LTS {root} can"
    with pytest.raises(DatablockTooLargeError, match=expected):
        lts(root).wait_for_room(size)
    assert time.monotonic() - started < 2
