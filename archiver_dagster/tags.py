"""Run tags: the SciCat job and dataset a run serves, its cleanup after failure, its time limit."""

PARTITION_TAG = "dagster/partition"
JOB_ID_TAG = "scicat/job_id"
JOB_TYPE_TAG = "scicat/job_type"
# Which launch of the job a run belongs to: 1, then 2, 3 … each time the job is set back to
# submitted after its runs ended.
JOB_ATTEMPT_TAG = "scicat/job_attempt"
# Set on the newest run of a job's attempt once its final status was sent to SciCat: a job
# submitted again after that was set back by an operator and runs again.
JOB_REPORTED_TAG = "scicat/job_reported"


# Set by `dataset_cleanup_sensor` once a failed dataset run was reported and cleaned up; the job
# status sensor waits for it so that SciCat shows the dataset's error before the job's final status.
CLEANED_UP_TAG = "archiver/cleaned_up"
# While a failed run's cleanup keeps failing: how often it was tried, and the last error.
CLEANUP_ATTEMPTS_TAG = "archiver/cleanup_attempts"
CLEANUP_ERROR_TAG = "archiver/cleanup_error"


def job_run_key(job_id: str, pid: str, attempt: int = 1) -> str:
    """Deterministic run key: a job never launches the same dataset twice per attempt."""
    return f"{job_id}:{pid}" if attempt == 1 else f"{job_id}:{pid}:attempt-{attempt}"


def job_run_tags(job_id: str, job_type: str, attempt: int = 1) -> dict[str, str]:
    """Tags of a run launched for a SciCat job (shown per run in the Dagster UI)."""
    return {JOB_ID_TAG: job_id, JOB_TYPE_TAG: job_type, JOB_ATTEMPT_TAG: str(attempt)}


# Dagster's run monitoring cancels a run that has run longer than this tag says (seconds).
MAX_RUNTIME_TAG = "dagster/max_runtime"


def max_runtime_tags(seconds: int) -> dict[str, str]:
    """Tags that bound a run's time: run monitoring cancels it after `seconds`."""
    return {MAX_RUNTIME_TAG: str(seconds)}
