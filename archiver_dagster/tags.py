"""Run tags that tie a Dagster run to the SciCat job and dataset it serves."""

PARTITION_TAG = "dagster/partition"
JOB_ID_TAG = "scicat/job_id"
JOB_TYPE_TAG = "scicat/job_type"
# Every run launched for a SciCat job carries this tag, so the status sensor can find them all
# with one query (Dagster filters runs by exact tag values only).
MANAGED_TAG = "scicat/managed"


# Set by the failure sensor once a failed dataset run was reported and cleaned up; the job status
# sensor waits for it so that SciCat shows the dataset's error before the job's final status.
CLEANED_UP_TAG = "archiver/cleaned_up"
# While a failed run's cleanup keeps failing: how often it was tried, and the last error.
CLEANUP_ATTEMPTS_TAG = "archiver/cleanup_attempts"
CLEANUP_ERROR_TAG = "archiver/cleanup_error"


def job_run_key(job_id: str, pid: str) -> str:
    """Deterministic run key: a job never launches the same dataset twice, across restarts."""
    return f"{job_id}:{pid}"


def job_run_tags(job_id: str, job_type: str) -> dict[str, str]:
    """Tags of a run launched for a SciCat job (shown per run in the Dagster UI)."""
    return {JOB_ID_TAG: job_id, JOB_TYPE_TAG: job_type, MANAGED_TAG: "true"}
