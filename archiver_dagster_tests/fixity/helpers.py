"""Fixity test helpers: archive with the checks, run the checks alone, read their results."""

from collections.abc import Mapping

from dagster import (
    AssetCheckEvaluation,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    materialize,
)

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.definitions import build_resources
from archiver_dagster.fixity.audit_schedule import AUDIT_JOB_NAME, fixity_audit_job
from archiver_dagster.fixity.checks import fixity_checks
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.tags import PARTITION_TAG

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def archive_checked(
    instance: DagsterInstance, pid: str, overrides: Mapping[str, object] | None = None
) -> ExecuteInProcessResult:
    """Archives `pid` as the archive job does: the four assets, then the checks."""
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return materialize(
        [*archival_assets, *fixity_checks],
        partition_key=pid,
        instance=instance,
        resources={**build_resources(), **(overrides or {})},
        raise_on_error=False,
        run_config=QUIET,
    )


def run_checks(
    instance: DagsterInstance,
    pid: str,
    overrides: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
) -> ExecuteInProcessResult:
    """Runs the two checks of `pid` alone (`fixity_audit_job`), as on demand or in an audit."""
    job = Definitions(
        assets=archival_assets,
        asset_checks=fixity_checks,
        jobs=[fixity_audit_job],
        resources={**build_resources(), **(overrides or {})},
    ).resolve_job_def(AUDIT_JOB_NAME)
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=QUIET,
        tags={PARTITION_TAG: pid, **(tags or {})},
    )


def evaluations(result: ExecuteInProcessResult) -> dict[str, AssetCheckEvaluation]:
    """The run's check evaluations by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def meta(evaluation: AssetCheckEvaluation, key: str) -> object:
    """The plain value of one metadata entry of a check evaluation."""
    return evaluation.metadata[key].value
