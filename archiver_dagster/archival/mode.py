"""What an archival run does with its dataset, decided once, when its files are listed.

`origdatablocks` decides from SciCat's lifecycle; the mode then travels in every value the ops
pass on (the manifests, each datablock's plan and manifest), and the ops branch on it alone.
"""

from enum import StrEnum

from archiver_dagster.scicat.models import ArchiveStatus, Dataset


class ArchivalMode(StrEnum):
    """The path an archival run takes: archive the landing zone, or re-verify the archive."""

    # Pack the landing zone's files, register them, copy to the LTS, verify, release.
    ARCHIVE = "archive"
    # Already on the archive disk: read the registered copies back and check them. Nothing is
    # packed, registered, copied, waited for or released, and SciCat's state stays as it was.
    REVERIFY = "reverify"


def archival_mode(dataset: Dataset) -> ArchivalMode:
    """REVERIFY when SciCat says the dataset is on the archive disk, ARCHIVE otherwise."""
    if dataset.datasetlifecycle.archive_status_message == ArchiveStatus.DATASET_ON_ARCHIVE_DISK:
        return ArchivalMode.REVERIFY
    return ArchivalMode.ARCHIVE
