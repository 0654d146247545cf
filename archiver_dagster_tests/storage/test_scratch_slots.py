"""A dataset's tars on scratch are bounded: a pack claims a slot before it writes."""

from pathlib import Path

import pytest

from archiver_dagster.storage.scratch_slots import claim_scratch_slot, tars_on_scratch


def test_slots_count_complete_and_partial_tars_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "a_0.tar").touch()
    (tmp_path / "a_1.tar.partial").touch()
    (tmp_path / "notes.txt").touch()
    assert tars_on_scratch(tmp_path) == {"a_0.tar", "a_1.tar"}
    assert tars_on_scratch(tmp_path / "missing") == set()


def test_a_claim_creates_the_partial_until_the_limit_is_reached(tmp_path: Path) -> None:
    folder = tmp_path / "datablocks"
    assert claim_scratch_slot(folder, "a_0.tar", 2)
    assert (folder / "a_0.tar.partial").exists()
    (folder / "a_0.tar.partial").rename(folder / "a_0.tar")  # packed, waiting for its copy
    assert claim_scratch_slot(folder, "a_1.tar", 2)

    assert not claim_scratch_slot(folder, "a_2.tar", 2)
    assert not (folder / "a_2.tar.partial").exists()

    (folder / "a_0.tar").unlink()  # its LTS copy is durable
    assert claim_scratch_slot(folder, "a_2.tar", 2)
    assert tars_on_scratch(folder) == {"a_1.tar", "a_2.tar"}


def test_a_pack_that_already_holds_its_slot_claims_it_again(tmp_path: Path) -> None:
    assert claim_scratch_slot(tmp_path, "a_0.tar", 1)
    assert claim_scratch_slot(tmp_path, "a_0.tar", 1)  # a retry of the same pack
    assert not claim_scratch_slot(tmp_path, "a_1.tar", 1)


def test_the_limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="limit must be positive"):
        claim_scratch_slot(tmp_path, "a_0.tar", 0)
