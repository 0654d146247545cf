"""The code location loads and holds the assets, jobs, sensors, resources and pools we expect."""

import importlib
import itertools
import subprocess
import sys

from dagster import AssetCheckKey, AssetKey, OpDefinition

from archiver_dagster.definitions import EXECUTORS, PRELOAD_MODULES, build_definitions, defs

ARCHIVAL = ["origdatablocks", "datablocks", "lts_datablocks", "verified_datablocks"]


def test_assets_form_the_archival_lineage():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert set(ARCHIVAL) <= keys
    for upstream, downstream in itertools.pairwise(ARCHIVAL):
        assert graph.get(AssetKey(downstream)).parent_keys == {AssetKey(upstream)}
    assert graph.get(AssetKey("retrieved_datablocks")).parent_keys == {AssetKey("lts_datablocks")}
    for name in [*ARCHIVAL, "retrieved_datablocks"]:
        assert graph.get(AssetKey(name)).partitions_def.name == "datasets"


def test_jobs_sensors_and_resources():
    for name in ("archive_dataset_job", "retrieve_dataset_job"):
        assert defs.resolve_job_def(name).partitions_def.name == "datasets"
    for name in (
        "scicat_jobs_sensor",
        "scicat_job_status_sensor",
        "dataset_cleanup_sensor",
        "archiver_alert_sensor",
    ):
        assert defs.resolve_sensor_def(name).default_status.value == "RUNNING"
    # The audit job runs the two checks alone; its runs name the dataset with a tag.
    audit = defs.resolve_job_def("fixity_audit_job")
    assert audit.asset_layer.asset_graph.asset_check_keys == {
        AssetCheckKey(AssetKey("verified_datablocks"), name)
        for name in ("lts_copies_intact", "scicat_consistent")
    }
    assert defs.resolve_schedule_def("fixity_audit_schedule").job_name == "fixity_audit_job"
    resources = {"scicat", "landing_zone", "lts", "packing", "retrieval_bucket", "alerts"}
    assert resources | {"manifest_io_manager"} <= set(defs.resources)


def test_per_datablock_ops_run_in_the_lts_pools():
    # Packing on scratch; the no-scratch chain's pools: archival/test_no_scratch.py.
    job = build_definitions("in_process", on_scratch=True).resolve_job_def("archive_dataset_job")
    pools = {node.name: node.pool for node in job.all_node_defs if isinstance(node, OpDefinition)}
    assert pools["wait_for_lts_space"] == "lts_free_space"
    assert pools["copy_to_lts"] == "lts_write"
    assert pools["verify_lts_copy"] == "lts_read"
    # The settle wait holds no pool: a read slot is never blocked by a sleeping op.
    assert pools["settle_lts_copy"] is None
    retrieve = defs.resolve_job_def("retrieve_dataset_job")
    retrieve_pools = {n.name: n.pool for n in retrieve.all_node_defs if isinstance(n, OpDefinition)}
    assert retrieve_pools["retrieve_datablock"] == "lts_read"


def test_executor_defaults_to_in_process_and_multiprocess_preloads_warm_modules():
    assert defs.resolve_job_def("archive_dataset_job").executor_def is EXECUTORS["in_process"]
    multiprocess = build_definitions("multiprocess").resolve_job_def("archive_dataset_job")
    assert multiprocess.executor_def is EXECUTORS["multiprocess"]
    # multiprocessing ignores a preload module that fails to import: a typo would silently
    # cost every step process its warm start, so each name must import here.
    assert "archiver_dagster.preload" in PRELOAD_MODULES
    for name in PRELOAD_MODULES:
        importlib.import_module(name)


def load_definitions(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Imports the definitions in a fresh interpreter with only `env` (no settings, no network)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import archiver_dagster.preload, archiver_dagster.definitions as d;"
            " print(d.defs.resolve_job_def('archive_dataset_job').executor_def.name)",
        ],
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_archiver_executor_selects_the_executor_when_the_code_location_loads():
    loaded = load_definitions({"ARCHIVER_EXECUTOR": "multiprocess"})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == EXECUTORS["multiprocess"].name
    loaded = load_definitions({})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "in_process"


def test_invalid_archiver_executor_fails_the_load_naming_the_variable():
    loaded = load_definitions({"ARCHIVER_EXECUTOR": "threads"})
    assert loaded.returncode != 0
    assert "ARCHIVER_EXECUTOR='threads': must be one of in_process, multiprocess" in loaded.stderr
