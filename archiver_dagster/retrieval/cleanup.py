"""After a failed retrieval run: report it on the dataset and remove this run's uploads.

The archived copy on the LTS is never modified or deleted by retrieval.
"""

from dataclasses import dataclass, field

from archiver_dagster.errors import ErrorKind, return_message
from archiver_dagster.partitions import InvalidPidError, validate_retrievable_pid
from archiver_dagster.scicat.client import DatasetNotFoundError, SciCatClient
from archiver_dagster.scicat.models import LifecycleUpdate, RetrieveStatus
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource


@dataclass
class RetrievalCleanupReport:
    """What the cleanup did."""

    pid: str
    status_reported: str | None = None
    uploads_removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clean_up_failed_retrieval(
    pid: str,
    run_id: str,
    kind: ErrorKind,
    message: str,
    client: SciCatClient,
    bucket: RetrievalBucketResource,
    dataset_layout: DatasetLayoutResource,
) -> RetrievalCleanupReport:
    """Sets `retrieveStatusMessage: datasetRetrievalFailed` and removes the run's uploads."""
    report = RetrievalCleanupReport(pid=pid)
    try:
        layout = dataset_layout.of(validate_retrievable_pid(pid))
    except InvalidPidError as error:
        report.notes.append(f"invalid PID, nothing to clean: {error}")
        return report
    report.uploads_removed = bucket.remove_run_uploads(layout.datablocks_folder + "/", run_id)
    try:
        client.update_lifecycle(
            pid,
            LifecycleUpdate(
                retrieve_status_message=RetrieveStatus.DATASET_RETRIEVAL_FAILED,
                retrieve_return_message=return_message(kind, message),
            ),
        )
        report.status_reported = RetrieveStatus.DATASET_RETRIEVAL_FAILED.value
    except DatasetNotFoundError:
        report.notes.append("dataset unknown to SciCat")
    return report
