"""What a dataset's archive holds now: its LTS copies re-read; SciCat, LTS and lifecycle compared.

No Dagster here: the checks (`fixity/checks.py`) call these and turn the findings into results.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from archiver_dagster.archive_record.members import registered_algorithm, registered_members
from archiver_dagster.archive_record.tar_checksums import RecordedTarChecksum
from archiver_dagster.errors import ArchiverError, bounded_list
from archiver_dagster.packing.verify import ChecksumMismatchError, verify_tar
from archiver_dagster.scicat.models import ArchiveStatus, Datablock, Dataset
from archiver_dagster.storage.lts import LTSResource


@dataclass(frozen=True)
class CopyFinding:
    """One datablock's copy as read back from the media: its checksum, or what is wrong."""

    archive_id: str
    algorithm: str
    packed_size: int
    checksum: str | None = None
    members: int = 0
    problem: str | None = None


@dataclass
class ReadBack:
    """Every copy of a dataset read back once: findings, bytes and seconds."""

    findings: list[CopyFinding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        """One line per copy that is not as registered."""
        return [f"{f.archive_id}: {f.problem}" for f in self.findings if f.problem]

    @property
    def bytes_read(self) -> int:
        """Bytes of the copies that could be read to their end."""
        return sum(f.packed_size for f in self.findings if f.checksum is not None)


def read_back_copy(
    lts: LTSResource, pid: str, block: Datablock, recorded: RecordedTarChecksum | None
) -> CopyFinding:
    """Reads one registered copy from the media (page cache bypassed) and checks it whole.

    Checks every member against SciCat's `dataFileList` and the tar against its recorded
    checksum (members only when none was recorded) in the algorithm recorded with it (a
    record without one: the members', decision 70); never raises for what it finds.
    """
    algorithm = registered_algorithm(block)
    tar_checksum = recorded.checksum if recorded else None
    tar_algorithm = (recorded.algorithm or algorithm) if recorded else None
    finding = CopyFinding(block.archive_id, algorithm, block.packed_size)
    try:
        expected = [member.expected() for member in registered_members(block)]
        with lts.open_registered(pid, block.archive_id, block.packed_size) as stream:
            digest = verify_tar(
                stream, tar_checksum, expected, algorithm, tar_algorithm=tar_algorithm
            )
    except ChecksumMismatchError as error:
        return _with(finding, problem=bounded_list(error.problems))
    except (ValueError, OSError, ArchiverError) as error:  # unreadable, unsafe, missing
        return _with(finding, problem=f"{type(error).__name__}: {error}")
    return _with(finding, checksum=digest.checksum, members=len(digest.members))


def _with(finding: CopyFinding, **changes: object) -> CopyFinding:
    """A copy of `finding` with `changes` applied."""
    return CopyFinding(**{**finding.__dict__, **changes})


def read_back_dataset(
    lts: LTSResource,
    pid: str,
    blocks: Sequence[Datablock],
    tar_checksums: Mapping[str, RecordedTarChecksum],
) -> ReadBack:
    """Reads every registered copy of the dataset back, one after the other."""
    started = time.monotonic()
    findings = [
        read_back_copy(lts, pid, block, tar_checksums.get(block.archive_id))
        for block in sorted(blocks, key=lambda block: block.archive_id)
    ]
    return ReadBack(findings=findings, seconds=time.monotonic() - started)


def attest_read_back(
    blocks: Sequence[Datablock],
    verified: Mapping[str, str],
    tar_checksums: Mapping[str, RecordedTarChecksum],
) -> ReadBack:
    """Findings from a read-back done already (this run's verification), without reading again.

    `verified` maps each archiveId the run read back and found intact to the tar checksum it
    computed; a registered datablock it did not verify, or whose checksum differs from the one
    recorded, is a problem.
    """
    findings = []
    for block in sorted(blocks, key=lambda block: block.archive_id):
        finding = CopyFinding(block.archive_id, registered_algorithm(block), block.packed_size)
        found = verified.get(block.archive_id)
        record = tar_checksums.get(block.archive_id)
        recorded = record.checksum if record else None
        if found is None:
            finding = _with(finding, problem="registered but not verified by this run")
        elif recorded and found != recorded:
            finding = _with(finding, problem=f"tar checksum {found} != recorded {recorded}")
        else:
            finding = _with(finding, checksum=found, members=len(block.data_file_list))
        findings.append(finding)
    return ReadBack(findings=findings)


def consistency_problems(
    lts: LTSResource,
    dataset: Dataset,
    blocks: Sequence[Datablock],
    tar_checksums: Mapping[str, RecordedTarChecksum],
) -> list[str]:
    """Where SciCat's datablocks, the LTS files and the lifecycle disagree (empty: they agree).

    Count and archiveIds against what archival recorded, sizes against the files on the LTS
    and the members, the lifecycle against an archived dataset; nothing is read but metadata.
    """
    pid = dataset.pid
    problems = _lifecycle_problems(dataset)
    if not blocks:
        return [*problems, "SciCat lists no datablocks"]
    layout = lts.layout(pid)
    registered = [block.archive_id for block in blocks]
    if len(set(registered)) != len(registered):
        problems.append(f"archiveIds registered twice: {bounded_list(sorted(registered))}")
    if tar_checksums and set(tar_checksums) != set(registered):
        problems.append(
            f"{len(registered)} datablocks in SciCat, {len(tar_checksums)} recorded at "
            f"archival; differing archiveIds: "
            f"{bounded_list(sorted(set(tar_checksums) ^ set(registered)))}"
        )
    for block in sorted(blocks, key=lambda block: block.archive_id):
        problems.extend(_block_problems(lts, layout.owns_archive_id(block.archive_id), block))
    folder = lts.dataset_folder(pid)
    names = {archive_id.rsplit("/", 1)[-1] for archive_id in registered}
    if folder.is_dir():
        extra = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name.startswith(layout.datablock_prefix) and entry.name not in names
        )
        if extra:
            problems.append(f"files on the LTS not registered in SciCat: {bounded_list(extra)}")
    return problems


def _lifecycle_problems(dataset: Dataset) -> list[str]:
    """The lifecycle of an archived dataset: on the archive disk, retrievable, not archivable."""
    lifecycle = dataset.datasetlifecycle
    problems = []
    if lifecycle.archive_status_message != ArchiveStatus.DATASET_ON_ARCHIVE_DISK:
        problems.append(
            f"lifecycle archiveStatusMessage is {lifecycle.archive_status_message!r}, "
            f"expected {ArchiveStatus.DATASET_ON_ARCHIVE_DISK.value!r}"
        )
    if lifecycle.retrievable is not True:
        problems.append(f"lifecycle retrievable is {lifecycle.retrievable}, expected True")
    if lifecycle.archivable is not False:
        problems.append(f"lifecycle archivable is {lifecycle.archivable}, expected False")
    return problems


def _block_problems(lts: LTSResource, owned: bool, block: Datablock) -> list[str]:
    """What is wrong with one registered datablock: its archiveId, its sizes, its LTS file."""
    name = block.archive_id
    if not owned:
        return [f"{name}: archiveId outside the dataset's LTS folder"]
    problems = []
    members = sum(file.size for file in block.data_file_list)
    if not block.data_file_list:
        problems.append(f"{name}: empty dataFileList")
    elif block.size != members:
        problems.append(f"{name}: size {block.size} != {members}, the sum of its members")
    unchecked = [file.path for file in block.data_file_list if not file.chk]
    if unchecked:
        problems.append(f"{name}: members without a checksum: {bounded_list(unchecked)}")
    path = lts.path_of(name)
    try:
        on_lts = path.stat().st_size
    except OSError as error:
        return [*problems, f"{name}: not on the LTS ({error.strerror})"]
    if on_lts != block.packed_size:
        problems.append(f"{name}: {on_lts} bytes on the LTS, packedSize {block.packed_size}")
    return problems
