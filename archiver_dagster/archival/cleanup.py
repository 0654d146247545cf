"""After a failed archival run: report the error to SciCat and remove what the run left behind.

Never deletes the only copy of data: the landing zone is never touched, and the LTS folder and
the datablocks registered in SciCat are kept when the dataset is already archived or when the
landing zone no longer holds all of it. What may be deleted is decided before anything is.
"""

from dataclasses import dataclass, field

from archiver_dagster.archival.inventory import landing_zone_problems, source_files
from archiver_dagster.archival.registration import remove_registered
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.errors import ErrorKind, UserError, return_message
from archiver_dagster.partitions import InvalidPidError, validate_pid
from archiver_dagster.scicat.client import DatasetNotFoundError, SciCatClient
from archiver_dagster.scicat.models import ArchiveStatus, LifecycleUpdate
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.lts import LTSResource


@dataclass
class CleanupReport:
    """What the cleanup did, for the sensor's log and the tests."""

    pid: str
    status_reported: str | None = None
    datablocks_deleted: list[str] = field(default_factory=list)
    lts_removed: bool = False
    scratch_removed: bool = False
    notes: list[str] = field(default_factory=list)


def failure_status(kind: ErrorKind) -> ArchiveStatus:
    """The lifecycle status of a failed archival: user error or system error."""
    if kind is ErrorKind.USER:
        return ArchiveStatus.MISSING_FILES
    return ArchiveStatus.SCHEDULE_ARCHIVE_JOB_FAILED


def _landing_zone_complete(
    client: SciCatClient, landing_zone: LandingZoneResource, pid: str
) -> bool:
    """Whether the landing zone holds every file SciCat lists, at its size.

    A file list SciCat cannot give as valid (a user error) counts as incomplete; SciCat or S3
    being unreachable raises, so that the cleanup is tried again instead of guessing.
    """
    try:
        files = source_files(client.get_origdatablocks(pid))
    except UserError:
        return False
    return not landing_zone_problems(files, landing_zone.list_raw_files(pid))


def clean_up_failed_archival(
    pid: str,
    kind: ErrorKind,
    message: str,
    client: SciCatClient,
    landing_zone: LandingZoneResource,
    lts: LTSResource,
    packing: PackingResource,
) -> CleanupReport:
    """Reports the failure on the dataset and deletes its registrations, LTS and scratch files."""
    report = CleanupReport(pid=pid)
    try:
        validate_pid(pid)
    except InvalidPidError as error:
        report.notes.append(f"invalid PID, nothing to clean: {error}")
        return report
    try:
        dataset = client.get_dataset(pid)
    except DatasetNotFoundError:
        report.notes.append("dataset unknown to SciCat")
        report.scratch_removed = packing.remove_scratch(pid)
        return report
    if dataset.datasetlifecycle.archive_status_message == ArchiveStatus.DATASET_ON_ARCHIVE_DISK:
        report.notes.append("dataset is archived and verified: its datablocks and LTS copies stay")
        report.scratch_removed = packing.remove_scratch(pid)
        return report
    # Decide first: with the landing zone incomplete, the LTS copy and its registration may be
    # all that is left of some files, so both stay.
    complete = _landing_zone_complete(client, landing_zone, pid)
    status = failure_status(kind)
    client.update_lifecycle(
        pid,
        LifecycleUpdate(
            archive_status_message=status,
            archive_return_message=return_message(kind, message),
        ),
    )
    report.status_reported = status.value
    if complete:
        layout = landing_zone.layout(pid)
        removed = remove_registered(client, layout)
        report.datablocks_deleted = [block.archive_id for block in removed]
        report.lts_removed = lts.remove_dataset(pid)
    else:
        report.notes.append(
            "landing zone incomplete: datablocks and LTS folder kept, they may hold the only copy"
        )
    report.scratch_removed = packing.remove_scratch(pid)
    return report
