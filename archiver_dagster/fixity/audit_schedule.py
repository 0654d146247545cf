"""The fixity audit: every night, re-read the copies whose last check is oldest, within a budget.

Each dataset is audited once per `ARCHIVER_AUDIT_PERIOD_DAYS`, oldest evidence first, at most
`ARCHIVER_AUDIT_BYTES_PER_RUN` a night, one run per dataset running the two checks. The read
happens in pool `lts_read` (the check's pool) and the runs have a lower priority than archive
and retrieve runs, so audits never hold back archival or retrieval.
"""

from dagster import (
    AssetCheckKey,
    AssetRecordsFilter,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from archiver_dagster.archival.assets import VERIFIED_DATABLOCKS_KEY
from archiver_dagster.fixity.audit_plan import AuditPlan, audit_order, choose_audits
from archiver_dagster.fixity.checks import LTS_COPIES_INTACT, fixity_checks, last_fixity_time
from archiver_dagster.settings import definition_time_int, definition_time_setting
from archiver_dagster.tags import PARTITION_TAG

AUDIT_JOB_NAME = "fixity_audit_job"
AUDIT_TAG = "archiver/audit"
# Queued archive and retrieve runs (priority 0) start before audit runs.
AUDIT_PRIORITY = "-1"
AUDIT_CRON = "0 2 * * *"
DAY_S = 86400.0

# Dagster infers a job's partitions from the assets it materializes: a job of checks alone has
# none (a `partitions_def` given to it is dropped), so its runs name their dataset with the
# `dagster/partition` tag, which is where a step reads its partition key from.
fixity_audit_job = define_asset_job(
    AUDIT_JOB_NAME,
    selection=AssetSelection.checks(*fixity_checks),
    tags={"dagster/priority": AUDIT_PRIORITY},
    description="Re-reads one dataset's LTS copies and compares SciCat, LTS and lifecycle "
    "(checks lts_copies_intact and scicat_consistent).",
)


def audit_tags(pid: str, night: str) -> dict[str, str]:
    """Tags of an audit run: its dataset (the partition), the night, its low priority."""
    return {PARTITION_TAG: pid, AUDIT_TAG: night, "dagster/priority": AUDIT_PRIORITY}


def last_fixity_ids(instance: DagsterInstance) -> dict[str, int]:
    """Per archived dataset, the storage id of its latest fixity evidence (archival or audit)."""
    storage = instance.event_log_storage
    evidence = dict(
        storage.get_latest_storage_id_by_partition(
            VERIFIED_DATABLOCKS_KEY, DagsterEventType.ASSET_MATERIALIZATION
        )
    )
    check_key = AssetCheckKey(VERIFIED_DATABLOCKS_KEY, LTS_COPIES_INTACT)
    for info in storage.get_asset_check_partition_info([check_key]):
        if info.partition_key in evidence:
            evidence[info.partition_key] = max(
                evidence[info.partition_key], info.latest_check_event_storage_id
            )
    return evidence


def dataset_bytes(instance: DagsterInstance, pid: str) -> int:
    """The dataset's bytes on the LTS, from its latest `verified_datablocks` materialization."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=VERIFIED_DATABLOCKS_KEY, asset_partitions=[pid]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    if materialization is None:
        return 0
    entry = materialization.metadata.get("bytes")
    return int(getattr(entry, "value", 0) or 0)


def plan_audits(
    instance: DagsterInstance, now: float, period_days: float, budget_bytes: int
) -> AuditPlan:
    """Tonight's audits on this instance."""
    return choose_audits(
        audit_order(last_fixity_ids(instance)),
        lambda pid: last_fixity_time(instance, pid),
        lambda pid: dataset_bytes(instance, pid),
        now,
        period_days * DAY_S,
        budget_bytes,
    )


def _default_status() -> DefaultScheduleStatus:
    """Running where `ARCHIVER_AUDIT_SCHEDULE` is on (production), stopped where off (demo)."""
    enabled = definition_time_setting("ARCHIVER_AUDIT_SCHEDULE") == "on"
    return DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED


@schedule(
    name="fixity_audit_schedule",
    cron_schedule=AUDIT_CRON,
    execution_timezone="UTC",
    job=fixity_audit_job,
    default_status=_default_status(),
    description="Every night, re-reads the archived copies whose last check is oldest and at "
    "least ARCHIVER_AUDIT_PERIOD_DAYS old, up to ARCHIVER_AUDIT_BYTES_PER_RUN.",
)
def fixity_audit_schedule(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
    """One audit run per dataset due tonight, oldest evidence first."""
    now = context.scheduled_execution_time.timestamp()
    period = definition_time_int("ARCHIVER_AUDIT_PERIOD_DAYS")
    budget = definition_time_int("ARCHIVER_AUDIT_BYTES_PER_RUN")
    plan = plan_audits(context.instance, now, period, budget)
    night = context.scheduled_execution_time.strftime("%Y-%m-%d")
    if plan.overdue_left:
        context.log.warning(
            f"{plan.overdue_left} datasets overdue for their audit did not fit in tonight's "
            f"{budget} bytes (ARCHIVER_AUDIT_BYTES_PER_RUN): raise it, or they wait"
        )
    if not plan.chosen:
        return SkipReason(f"no archived dataset was last checked more than {period} days ago")
    context.log.info(f"auditing {len(plan.chosen)} datasets, {plan.bytes} bytes")
    return [
        RunRequest(
            run_key=f"audit:{night}:{pid}",
            tags=audit_tags(pid, night),
        )
        for pid in plan.chosen
    ]
