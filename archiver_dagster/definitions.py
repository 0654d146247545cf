"""Assembles the archiver's Dagster definitions: assets, jobs, sensors, resources, executor.

No I/O happens here; environment variables are resolved by Dagster at run time (`EnvVar`).
"""

from dagster import (
    Definitions,
    EnvVar,
    ExecutorDefinition,
    JobDefinition,
    in_process_executor,
    multiprocess_executor,
)
from dagster_aws.s3 import S3Resource

from archiver_dagster.archival.assets import archival_assets_for
from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME, archive_dataset_job
from archiver_dagster.archival.ordering import PACK, PRIORITY_TAG
from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.automation.cleanup_sensor import dataset_cleanup_sensor
from archiver_dagster.automation.intake_sensor import scicat_jobs_sensor
from archiver_dagster.automation.status_sensor import scicat_job_status_sensor
from archiver_dagster.fixity.alert_sensor import archiver_alert_sensor
from archiver_dagster.fixity.alerts import AlertResource
from archiver_dagster.fixity.audit_schedule import fixity_audit_job, fixity_audit_schedule
from archiver_dagster.fixity.checks import fixity_checks
from archiver_dagster.io_manager import MANIFEST_IO_MANAGER, JsonManifestIOManagerFactory
from archiver_dagster.retrieval.assets import retrieval_assets
from archiver_dagster.retrieval.dagster_job import retrieve_dataset_job
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.settings import (
    definition_time_setting,
    env_int_setting,
    env_setting,
    packs_on_scratch,
)
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource

# The executor is chosen with ARCHIVER_EXECUTOR (docs/architecture.md, decision 13). in_process
# (default): steps run one after the other in the run's process; each datablock op already uses
# two cores (threads), and a run is spared the start of a process per step, most of Dagster's
# overhead on a small dataset (docs/performance.md). multiprocess: datablocks of one run in
# parallel, each step in a process forked from a server that has preloaded Dagster and the
# warmed-up definitions (`archiver_dagster.preload`).
PRELOAD_MODULES = ["dagster", "archiver_dagster.preload"]
EXECUTORS: dict[str, ExecutorDefinition] = {
    "in_process": in_process_executor,
    "multiprocess": multiprocess_executor.configured(
        {
            "max_concurrent": 4,
            "start_method": {"forkserver": {"preload_modules": PRELOAD_MODULES}},
            # One pack at a time: pack i+1 runs beside copy i and read-back i-1 instead of
            # beside another pack competing for the same cores (decision 73).
            "tag_concurrency_limits": [{"key": PRIORITY_TAG, "value": str(PACK), "limit": 1}],
        },
        name="multiprocess_preloaded",
    ),
}


def build_resources() -> dict[str, object]:
    """The resources, wired to the environment variables named in `.env.example`."""
    # One storage prefix for the landing zone, the LTS and scratch, as one S3 for both buckets.
    dataset_layout = DatasetLayoutResource(storage_prefix=env_setting("ARCHIVER_STORAGE_PREFIX"))
    s3 = S3Resource(
        endpoint_url=env_setting("S3_ENDPOINT"),
        region_name=env_setting("S3_REGION"),
        aws_access_key_id=EnvVar("S3_ACCESS_KEY_ID"),
        aws_secret_access_key=EnvVar("S3_SECRET_ACCESS_KEY"),
    )
    return {
        "scicat": SciCatResource(
            endpoint=env_setting("SCICAT_ENDPOINT"),
            api_prefix=env_setting("SCICAT_API_PREFIX"),
            jobs_api_prefix=env_setting("SCICAT_JOBS_API_PREFIX"),
            username=EnvVar("SCICAT_USER"),
            password=EnvVar("SCICAT_PASSWORD"),
            timeout_s=env_int_setting("SCICAT_TIMEOUT_S"),
            call_budget_s=env_int_setting("SCICAT_CALL_BUDGET_S"),
            transient_fault_budget_s=env_int_setting("ARCHIVER_TRANSIENT_FAULT_BUDGET_S"),
            job_submitted_status=env_setting("ARCHIVER_JOB_SUBMITTED_STATUS"),
        ),
        "landing_zone": LandingZoneResource(
            s3=s3,
            bucket=env_setting("S3_LANDINGZONE_BUCKET"),
            dataset_layout=dataset_layout,
            download_concurrency=env_int_setting("ARCHIVER_DOWNLOAD_CONCURRENCY"),
            transient_fault_budget_s=env_int_setting("ARCHIVER_TRANSIENT_FAULT_BUDGET_S"),
        ),
        "lts": LTSResource(
            storage_root=env_setting("LTS_STORAGE_ROOT"),
            dataset_layout=dataset_layout,
            free_space_percentage=env_setting("LTS_FREE_SPACE_PERCENTAGE"),
            free_space_timeout_s=env_int_setting("ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S"),
            file_timeout_s=env_int_setting("ARCHIVER_LTS_FILE_TIMEOUT_S"),
            read_retry_delay_s=env_int_setting("ARCHIVER_LTS_READ_RETRY_DELAY_S"),
            wait_before_verify_s=env_int_setting("ARCHIVER_LTS_WAIT_BEFORE_VERIFY_S"),
        ),
        "packing": PackingResource(
            scratch_folder=env_setting("ARCHIVER_SCRATCH_FOLDER"),
            dataset_layout=dataset_layout,
            target_size_gb=env_setting("ARCHIVER_TARGET_SIZE_GB"),
            checksum_algorithm=env_setting("ARCHIVER_CHECKSUM_ALG"),
            max_scratch_datablocks=env_int_setting("ARCHIVER_SCRATCH_DATABLOCKS"),
        ),
        "retrieval_bucket": RetrievalBucketResource(
            s3=s3,
            bucket=env_setting("S3_RETRIEVAL_BUCKET"),
            external_endpoint=env_setting("S3_EXTERNAL_ENDPOINT"),
            url_expiration_days=env_int_setting("S3_URL_EXPIRATION_DAYS"),
            transient_fault_budget_s=env_int_setting("ARCHIVER_TRANSIENT_FAULT_BUDGET_S"),
        ),
        "alerts": AlertResource(webhook_url=env_setting("ARCHIVER_ALERT_WEBHOOK_URL")),
        MANIFEST_IO_MANAGER: JsonManifestIOManagerFactory(),
    }


def build_definitions(executor_name: str, on_scratch: bool | None = None) -> Definitions:
    """The code location's definitions with the named executor (`EXECUTORS`).

    `on_scratch`: tars are packed on scratch and copied to the LTS, else packed straight onto
    the LTS (decision 72); by default as ARCHIVER_SCRATCH_FOLDER says now.
    """
    if on_scratch is None:
        on_scratch = packs_on_scratch()
    return Definitions(
        assets=[*archival_assets_for(on_scratch), *retrieval_assets],
        asset_checks=fixity_checks,
        jobs=[archive_dataset_job, retrieve_dataset_job, fixity_audit_job],
        sensors=[
            scicat_jobs_sensor,
            scicat_job_status_sensor,
            dataset_cleanup_sensor,
            archiver_alert_sensor,
        ],
        schedules=[fixity_audit_schedule],
        resources=build_resources(),
        executor=EXECUTORS[executor_name],
    )


# The archival chain is chosen with ARCHIVER_SCRATCH_FOLDER when the code location loads, as the
# executor is: every op then keeps one static pool (decision 72).
defs = build_definitions(definition_time_setting("ARCHIVER_EXECUTOR"))


def archive_dataset_job_def() -> JobDefinition:
    """The resolved archive job, for `execute_job(reconstructable(archive_dataset_job_def))`."""
    return defs.resolve_job_def(ARCHIVE_JOB_NAME)


def multiprocess_archive_job_def() -> JobDefinition:
    """The archive job with the multiprocess executor, whatever ARCHIVER_EXECUTOR says.

    Built on demand: a second `Definitions` at module level would make the module ambiguous
    for `dagster code-server -m`.
    """
    return build_definitions("multiprocess").resolve_job_def(ARCHIVE_JOB_NAME)
