"""The archive job with other executor settings, to measure them against the code location's.

`preload_defs`: multiprocess with forkserver preloading `archiver_dagster.definitions` and this
module, so a step process starts with every module imported (the job is resolved per process);
the code location preloads only `dagster` and the `archiver_dagster` package itself.
"""

from dagster import Definitions, JobDefinition, multiprocess_executor

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.definitions import archive_dataset_job, build_resources

PRELOAD = ["dagster", "archiver_dagster.definitions", "archiver_dagster.bench.jobs"]

bench_defs = Definitions(
    assets=archival_assets,
    jobs=[archive_dataset_job],
    resources=build_resources(),
    executor=multiprocess_executor.configured(
        {"max_concurrent": 4, "start_method": {"forkserver": {"preload_modules": PRELOAD}}}
    ),
)


def preloaded_job_def() -> JobDefinition:
    """The archive job whose forkserver preloads the definitions (resolved in each process)."""
    return bench_defs.resolve_job_def(archive_dataset_job.name)
