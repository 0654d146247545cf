"""Each datablock's steps run as a pipeline, and at most N tars of a dataset are on scratch."""

import logging
from pathlib import Path

import pytest
from dagster import DagsterEventType, RetryRequested

from archiver_dagster.archival.scratch_wait import SCRATCH_WAIT_MAX_S, wait_for_scratch_slot
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.scratch_slots import tars_on_scratch
from archiver_dagster_tests.helpers import archive, lts, lts_folder, scratch_folder
from devstack.seed import sample_files


def test_each_tar_is_copied_before_the_next_is_packed_and_then_leaves_scratch(
    stack, instance, seed_dataset, unique_pid, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_TARGET_SIZE_GB", "0.00001")  # 10 kB: one datablock per file
    monkeypatch.setenv("ARCHIVER_SCRATCH_DATABLOCKS", "2")
    on_scratch: list[set[str]] = []

    class WatchedLTS(LTSResource):
        """Notes the dataset's tars on scratch when each copy starts."""

        def store(self, source: Path, archive_id: str) -> Path:
            on_scratch.append(tars_on_scratch(source.parent))
            return super().store(source, archive_id)

    pid = unique_pid()
    seed_dataset(pid, sample_files(4, 8000))

    result = archive(instance, pid, {"lts": lts(stack, WatchedLTS)})

    assert result.success
    assert len(list(lts_folder(stack, pid).iterdir())) == 4
    # In process, one step at a time: each tar is reserved and copied (and so leaves scratch)
    # before the next is packed; the read-backs come after the copies.
    started = [
        event.step_key.split(".")[1].split("[")[0]
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_START and "[" in (event.step_key or "")
    ]
    chain = ["pack_datablock", "wait_for_lts_space", "copy_to_lts"]
    assert started[:12] == chain * 4
    assert sorted(started[12:]) == ["settle_lts_copy"] * 4 + ["verify_lts_copy"] * 4
    assert [len(names) for names in on_scratch] == [1, 1, 1, 1]
    assert not scratch_folder(stack, pid).exists()


def test_a_pack_without_a_scratch_slot_retries_later_instead_of_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "datablocks"
    folder.mkdir()
    (folder / "x_0.tar").touch()  # packed, its copy still to come
    (folder / "x_1.tar.partial").touch()  # being packed
    log = logging.getLogger(__name__)

    with pytest.raises(RetryRequested) as first:
        wait_for_scratch_slot(folder / "x_2.tar", 2, 0, log)
    with pytest.raises(RetryRequested) as later:
        wait_for_scratch_slot(folder / "x_2.tar", 2, 50, log)
    assert first.value.seconds_to_wait == 0.25
    assert later.value.seconds_to_wait == SCRATCH_WAIT_MAX_S  # the wait grows, up to a bound
    assert not (folder / "x_2.tar.partial").exists()

    (folder / "x_0.tar").unlink()  # copied to the LTS
    wait_for_scratch_slot(folder / "x_2.tar", 2, 51, log)
    assert (folder / "x_2.tar.partial").exists()
