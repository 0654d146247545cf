"""The soak's invariants, checked on what SciCat, the landing zone, the LTS and scratch hold.

After every job has ended, whatever faults were injected:
1. every job is in a final state;
2. every dataset marked archived has its verified copies on the LTS (each registered tar there,
   of its registered size, holding exactly the dataset's files, byte for byte) and an empty
   landing zone;
3. every other dataset has a complete landing zone (every object seeded, byte for byte), no
   registered datablocks and an error state;
4. nothing is left over: no file on the LTS but the registered tars of archived datasets (no
   `.partial`, no folder of a dataset that is not archived), nothing on scratch.
"""

import hashlib
import os
import tarfile
from pathlib import Path

from pydantic import BaseModel

from devstack.soak.datasets import PREFIX, SoakDataset

ARCHIVED = "datasetOnArchiveDisk"
ERROR_STATES = ("missingFilesError", "scheduleArchiveJobFailed")
FINAL_JOB_STATES = ("finishedSuccessful", "finishedWithDatasetErrors", "finishedUnsuccessful")


class DatablockSeen(BaseModel):
    """A datablock as SciCat lists it."""

    archive_id: str
    size: int
    packed_size: int


class DatasetSeen(BaseModel):
    """A dataset as found after the soak: SciCat's state and its landing-zone objects."""

    pid: str
    status: str | None
    datablocks: list[DatablockSeen]
    landing_zone: dict[str, str]  # path under raw_files/ -> md5 of the object's bytes
    error: str = ""  # archiveReturnMessage's message, for a failed dataset


class Invariant(BaseModel):
    """One invariant: how many items were checked, how many held, and what broke."""

    name: str
    checked: int
    held: int
    problems: list[str] = []

    @property
    def holds(self) -> bool:
        """Whether nothing broke."""
        return not self.problems


def jobs_final(jobs: dict[str, str]) -> Invariant:
    """Every job (id -> status code) is in a final state."""
    problems = [
        f"job {job}: {status}" for job, status in jobs.items() if status not in FINAL_JOB_STATES
    ]
    return Invariant(
        name="every job in a final state",
        checked=len(jobs),
        held=len(jobs) - len(problems),
        problems=problems,
    )


def tar_problems(path: Path, block: DatablockSeen) -> tuple[dict[str, str], list[str]]:
    """The members (path -> md5) of the tar at `path`, and what differs from its registration."""
    if not path.is_file():
        return {}, [f"{block.archive_id} missing on the LTS"]
    problems = []
    if path.stat().st_size != block.packed_size:
        problems.append(
            f"{block.archive_id} has {path.stat().st_size} bytes, SciCat says {block.packed_size}"
        )
    members: dict[str, str] = {}
    unpacked = 0
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                data = tar.extractfile(member)
                content = data.read() if data is not None else b""
                unpacked += len(content)
                members[member.name] = hashlib.md5(content, usedforsecurity=False).hexdigest()
    except (OSError, tarfile.TarError) as error:
        return members, [*problems, f"{block.archive_id} unreadable: {error}"]
    if unpacked != block.size:
        problems.append(f"{block.archive_id} holds {unpacked} bytes, SciCat says {block.size}")
    return members, problems


def _archived_problems(seen: DatasetSeen, plan: SoakDataset, lts_root: Path) -> list[str]:
    if not seen.datablocks:
        return ["no datablocks registered"]
    problems: list[str] = []
    archived: dict[str, str] = {}
    for block in seen.datablocks:
        members, found = tar_problems(lts_root / block.archive_id, block)
        problems += found
        archived.update(members)
    expected = {file.path: file.md5() for file in plan.files}
    differing = sorted(
        path
        for path in expected.keys() | archived.keys()
        if expected.get(path) != archived.get(path)
    )
    if differing:
        problems.append(f"{len(differing)} files not archived as seeded: {differing[:5]}")
    if seen.landing_zone:
        problems.append(f"landing zone still holds {len(seen.landing_zone)} objects")
    return problems


def archived_verified(
    seen: list[DatasetSeen], plans: dict[str, SoakDataset], lts_root: Path
) -> Invariant:
    """Datasets marked archived: verified copies on the LTS, empty landing zone."""
    archived = [dataset for dataset in seen if dataset.status == ARCHIVED]
    found = {
        dataset.pid: _archived_problems(dataset, plans[dataset.pid], lts_root)
        for dataset in archived
    }
    return _per_dataset(
        "every archived dataset: verified copies on the LTS, empty landing zone", found, seen
    )


def _per_dataset(name: str, found: dict[str, list[str]], seen: list[DatasetSeen]) -> Invariant:
    """An invariant over datasets: each dataset with a problem counts once."""
    status = {dataset.pid: dataset.status for dataset in seen}
    return Invariant(
        name=name,
        checked=len(found),
        held=sum(1 for problems in found.values() if not problems),
        problems=[
            f"{pid} ({status[pid]}): {problem}"
            for pid, problems in found.items()
            for problem in problems
        ],
    )


def _unarchived_problems(seen: DatasetSeen, plan: SoakDataset) -> list[str]:
    problems = []
    if seen.status not in ERROR_STATES:
        problems.append(f"state {seen.status}, not an error state")
    if seen.datablocks:
        problems.append(f"{len(seen.datablocks)} datablocks registered")
    expected = {file.path: file.md5() for file in plan.uploaded}
    if seen.landing_zone != expected:
        lost = sorted(path for path in expected if seen.landing_zone.get(path) != expected[path])
        extra = sorted(seen.landing_zone.keys() - expected.keys())
        problems.append(
            f"landing zone differs: {len(lost)} objects lost or changed {lost[:5]}, "
            f"{len(extra)} extra"
        )
    return problems


def others_intact(seen: list[DatasetSeen], plans: dict[str, SoakDataset]) -> Invariant:
    """Datasets not archived: complete landing zone, no datablocks, an error state."""
    found = {
        dataset.pid: _unarchived_problems(dataset, plans[dataset.pid])
        for dataset in seen
        if dataset.status != ARCHIVED
    }
    return _per_dataset(
        "every other dataset: complete landing zone, no datablocks, an error state", found, seen
    )


def _all_files(root: Path) -> list[Path]:
    return sorted(Path(folder) / name for folder, _, names in os.walk(root) for name in names)


def no_orphans(seen: list[DatasetSeen], lts_root: Path, scratch_root: Path) -> Invariant:
    """No file on the LTS but archived datasets' registered tars; nothing on scratch.

    Counted per item looked at: each LTS file, the LTS folder of each dataset not archived,
    each file and dataset folder on scratch.
    """
    registered = {
        lts_root / block.archive_id
        for dataset in seen
        if dataset.status == ARCHIVED
        for block in dataset.datablocks
    }
    lts_files = _all_files(lts_root)
    problems = [
        f"LTS: {path.relative_to(lts_root)}" for path in lts_files if path not in registered
    ]
    unarchived = [dataset.pid for dataset in seen if dataset.status != ARCHIVED]
    for pid in unarchived:
        folder = lts_root / PREFIX / "datasets" / pid / "datablocks"
        if folder.exists():
            problems.append(f"LTS: folder {folder.relative_to(lts_root)} of a dataset not archived")
    scratch_files = _all_files(scratch_root)
    problems += [f"scratch: {path.relative_to(scratch_root)}" for path in scratch_files]
    datasets_folder = scratch_root / "archival" / PREFIX
    folders = sorted(datasets_folder.iterdir()) if datasets_folder.is_dir() else []
    problems += [f"scratch: folder {folder.relative_to(scratch_root)}" for folder in folders]
    checked = len(lts_files) + len(unarchived) + len(scratch_files) + len(folders)
    return Invariant(
        name="no orphan files on the LTS or scratch",
        checked=checked,
        held=checked - len(problems),
        problems=problems,
    )


def check_all(
    jobs: dict[str, str],
    seen: list[DatasetSeen],
    plans: list[SoakDataset],
    lts_root: Path,
    scratch_root: Path,
) -> list[Invariant]:
    """The four invariants, in the order of the issue."""
    by_pid = {plan.pid: plan for plan in plans}
    return [
        jobs_final(jobs),
        archived_verified(seen, by_pid, lts_root),
        others_intact(seen, by_pid),
        no_orphans(seen, lts_root, scratch_root),
    ]
