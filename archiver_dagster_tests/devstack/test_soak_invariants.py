"""The soak's invariant checker holds on a truthful end and names every broken invariant."""

import io
import tarfile
from pathlib import Path

import pytest

from devstack.seed import SampleFile
from devstack.soak.datasets import PREFIX, SoakDataset
from devstack.soak.invariants import (
    DatablockSeen,
    DatasetSeen,
    Invariant,
    check_all,
)
from devstack.soak.report import outcomes

ARCHIVED_PID = "20.500.11935/soak-archived"
FAILED_PID = "soak-failed"
FILES = (SampleFile("raw/a.bin", 700, seed=1), SampleFile("raw/b.bin", 300, seed=2))
PLANS = [
    SoakDataset(pid=ARCHIVED_PID, shape="tiny", files=FILES),
    SoakDataset(pid=FAILED_PID, shape="tiny", files=FILES, missing=("raw/b.bin",)),
]
ARCHIVE_ID = f"{PREFIX}/datasets/{ARCHIVED_PID}/datablocks/20.500.11935-soak-archived_0.tar"


@pytest.fixture
def lts(tmp_path: Path) -> Path:
    """An LTS holding the archived dataset's tar."""
    root = tmp_path / "lts"
    tar_path = root / ARCHIVE_ID
    tar_path.parent.mkdir(parents=True)
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for file in FILES:
            info = tarfile.TarInfo(file.path)
            info.size = file.size
            tar.addfile(info, io.BytesIO(file.content()))
    return root


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "scratch"
    (root / "archival" / PREFIX).mkdir(parents=True)
    return root


def truthful_end(lts: Path) -> list[DatasetSeen]:
    """One dataset archived with its tar, one failed with its landing zone as uploaded."""
    block = DatablockSeen(
        archive_id=ARCHIVE_ID, size=1000, packed_size=(lts / ARCHIVE_ID).stat().st_size
    )
    return [
        DatasetSeen(
            pid=ARCHIVED_PID, status="datasetOnArchiveDisk", datablocks=[block], landing_zone={}
        ),
        DatasetSeen(
            pid=FAILED_PID,
            status="missingFilesError",
            datablocks=[],
            landing_zone={"raw/a.bin": FILES[0].md5()},
        ),
    ]


def check(seen: list[DatasetSeen], lts: Path, scratch: Path, job: str = "finishedUnsuccessful"):
    return check_all({"job-1": job}, seen, PLANS, lts, scratch)


def broken(invariants: list[Invariant]) -> dict[str, list[str]]:
    return {invariant.name: invariant.problems for invariant in invariants if not invariant.holds}


def test_a_truthful_end_holds_every_invariant(lts, scratch):
    invariants = check(truthful_end(lts), lts, scratch)

    assert broken(invariants) == {}
    assert [(i.checked, i.held) for i in invariants] == [(1, 1), (1, 1), (1, 1), (2, 2)]


def test_a_job_not_final_is_broken(lts, scratch):
    [jobs, *_] = check(truthful_end(lts), lts, scratch, job="inProgress")

    assert jobs.problems == ["job job-1: inProgress"]


def test_an_archived_dataset_whose_tar_is_missing_is_broken(lts, scratch):
    seen = truthful_end(lts)
    (lts / ARCHIVE_ID).unlink()

    problems = broken(check(seen, lts, scratch))

    [archived] = [p for name, p in problems.items() if name.startswith("every archived")]
    assert archived == [
        f"{ARCHIVED_PID} (datasetOnArchiveDisk): {ARCHIVE_ID} missing on the LTS",
        f"{ARCHIVED_PID} (datasetOnArchiveDisk): 2 files not archived as seeded: "
        "['raw/a.bin', 'raw/b.bin']",
    ]


def test_an_archived_dataset_with_other_bytes_or_landing_zone_objects_is_broken(lts, scratch):
    seen = truthful_end(lts)
    seen[0].datablocks[0].packed_size += 1
    seen[0].landing_zone = {"raw/a.bin": FILES[0].md5()}
    tar = lts / ARCHIVE_ID
    tar.write_bytes(tar.read_bytes().replace(FILES[1].content()[:50], b"x" * 50))

    [archived] = [i for i in check(seen, lts, scratch) if i.name.startswith("every archived")]

    text = "\n".join(archived.problems)
    assert (archived.checked, archived.held) == (1, 0)
    assert "SciCat says" in text  # the size differs from the registration
    assert "1 files not archived as seeded: ['raw/b.bin']" in text
    assert "landing zone still holds 1 objects" in text


def test_a_failed_dataset_with_datablocks_a_lost_object_or_no_error_state_is_broken(lts, scratch):
    seen = truthful_end(lts)
    seen[1].status = "isOnCentralDisk"
    seen[1].landing_zone = {}
    seen[1].datablocks = [DatablockSeen(archive_id="x", size=1, packed_size=1)]

    [others] = [i for i in check(seen, lts, scratch) if i.name.startswith("every other")]

    assert (others.checked, others.held) == (1, 0)
    assert [problem.split(": ", 1)[1][:25] for problem in others.problems] == [
        "state isOnCentralDisk, no",
        "1 datablocks registered",
        "landing zone differs: 1 o",
    ]


def test_orphans_on_the_lts_and_scratch_are_named(lts, scratch):
    seen = truthful_end(lts)
    (lts / f"{ARCHIVE_ID}.partial").write_bytes(b"half")
    failed_folder = lts / PREFIX / "datasets" / FAILED_PID / "datablocks"
    failed_folder.mkdir(parents=True)
    (scratch / "archival" / PREFIX / "soak-failed" / "datablocks").mkdir(parents=True)
    (scratch / "archival" / PREFIX / "soak-failed" / "datablocks" / "soak-failed_0.tar").touch()

    [orphans] = [i for i in check(seen, lts, scratch) if i.name.startswith("no orphan")]

    assert orphans.problems == [
        f"LTS: {ARCHIVE_ID}.partial",
        f"LTS: folder {PREFIX}/datasets/{FAILED_PID}/datablocks of a dataset not archived",
        f"scratch: archival/{PREFIX}/soak-failed/datablocks/soak-failed_0.tar",
        f"scratch: folder archival/{PREFIX}/soak-failed",
    ]
    assert (orphans.checked, orphans.held) == (5, 1)


def test_good_datasets_exclude_missing_files_and_killed_run_workers(lts):
    third = SoakDataset(pid="soak-killed", shape="tiny", files=FILES)
    seen = [
        *truthful_end(lts),
        DatasetSeen(
            pid=third.pid, status="scheduleArchiveJobFailed", datablocks=[], landing_zone={}
        ),
    ]

    counted = outcomes(seen, [*PLANS, third], {"job-1": "finishedWithDatasetErrors"})
    without_killed = outcomes(seen, [*PLANS, third], {}, killed={third.pid})

    assert (counted.good, counted.good_archived) == (2, 1)
    assert counted.good_archived_share == 0.5
    assert (without_killed.good, without_killed.good_archived) == (1, 1)
    assert without_killed.good_archived_share == 1.0
