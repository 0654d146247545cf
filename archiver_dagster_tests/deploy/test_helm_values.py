"""deploy/helm/values.yaml: user deployment, variables, volumes, init step and policies.

The policies must be those of deploy/dagster.yaml. No Helm runs here: the chart is not rendered.
"""

import pytest
import yaml

from archiver_dagster.settings import SETTINGS, SETTINGS_BY_NAME
from archiver_dagster_tests.deploy.files import DEPLOY, env_example

VALUES = DEPLOY / "helm" / "values.yaml"
DAGSTER_HOME = "/opt/dagster/dagster_home"
# Set to a mounted volume, where `.env.example` documents the default (no scratch folder).
MOUNTED = {"ARCHIVER_SCRATCH_FOLDER": "/scratch"}
POOL_VARIABLES = (
    "ARCHIVER_LTS_WRITE_LIMIT",
    "ARCHIVER_LTS_READ_LIMIT",
    "ARCHIVER_LTS_FREE_SPACE_LIMIT",
)


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def deployment() -> dict:
    [archiver] = values()["dagster-user-deployments"]["deployments"]
    return archiver


def production() -> dict:
    return yaml.safe_load((DEPLOY / "dagster.yaml").read_text())


def env_values(env: list[dict]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in env if "value" in entry}


def test_the_code_location_is_a_user_deployment_of_the_image_whose_runs_are_pods():
    archiver = deployment()

    assert values()["dagster-user-deployments"]["enabled"]
    assert archiver["codeServerArgs"] == ["-m", "archiver_dagster.definitions"]
    assert archiver["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert values()["runLauncher"]["type"] == "K8sRunLauncher"


def test_the_deployment_names_every_archiver_variable_once():
    env = deployment()["env"]
    names = [entry["name"] for entry in env]
    example = env_example()

    assert sorted(names) == sorted(setting.name for setting in SETTINGS)
    for entry in env:
        setting = SETTINGS_BY_NAME[entry["name"]]
        if setting.secret:
            reference = {"name": "archiver-secrets", "key": setting.name}
            if setting.default is not None:  # optional: the key may be absent from the secret
                reference["optional"] = True
            assert entry["valueFrom"] == {"secretKeyRef": reference}
        elif setting.name in MOUNTED:
            assert entry["value"] == MOUNTED[setting.name]
        else:
            assert entry["value"] == example[setting.name], setting.name


def test_the_paths_the_archiver_is_given_are_the_volumes_mounted():
    archiver = deployment()
    env = env_values(archiver["env"])
    mounts = {mount["name"]: mount["mountPath"] for mount in archiver["volumeMounts"]}
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"]
        for volume in archiver["volumes"]
        if "persistentVolumeClaim" in volume
    }
    manifests = list(yaml.safe_load_all((DEPLOY / "helm" / "volumes.yaml").read_text()))
    read_write_many = {
        manifest["metadata"]["name"]
        for manifest in manifests
        if manifest["kind"] == "PersistentVolumeClaim"
        and manifest["spec"]["accessModes"] == ["ReadWriteMany"]
    }

    assert mounts == {
        "lts": env["LTS_STORAGE_ROOT"],
        "scratch": env["ARCHIVER_SCRATCH_FOLDER"],
        "dagster-storage": f"{DAGSTER_HOME}/storage",
    }
    assert set(claims) == set(mounts)
    assert set(claims.values()) <= read_write_many


def test_the_init_step_applies_the_configured_pools_to_the_charts_instance():
    archiver = deployment()
    [init] = archiver["initContainers"]
    image = archiver["image"]
    instance_volume = {volume["name"]: volume for volume in archiver["volumes"]}[
        "archiver-instance"
    ]

    assert init["image"] == f"{image['repository']}:{image['tag']}"
    assert init["command"] == ["archiver-dagster", "apply-pools"]
    init_env = env_values(init["env"])
    deployment_env = env_values(archiver["env"])
    assert {name: init_env[name] for name in POOL_VARIABLES} == {
        name: deployment_env[name] for name in POOL_VARIABLES
    }
    password = {"name": "dagster-postgresql-secret", "key": "postgresql-password"}
    assert {"name": "DAGSTER_PG_PASSWORD", "valueFrom": {"secretKeyRef": password}} in init["env"]
    assert init["volumeMounts"] == [
        {
            "name": "archiver-instance",
            "mountPath": f"{DAGSTER_HOME}/dagster.yaml",
            "subPath": "dagster.yaml",
        }
    ]
    assert instance_volume["configMap"] == {"name": "dagster-instance"}


def test_no_volume_clashes_with_the_run_launchers_instance_volume():
    # Run pods get the deployment's volumes beside the launcher's own `dagster-instance`.
    assert "dagster-instance" not in {volume["name"] for volume in deployment()["volumes"]}


def test_postgresql_is_external_and_its_password_a_secret():
    postgresql = values()["postgresql"]

    assert postgresql["enabled"] is False
    assert "postgresqlPassword" not in postgresql
    assert values()["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlScheme" not in postgresql  # the plain URL works (decision 56)


@pytest.mark.parametrize(
    ("values_path", "instance_path"),
    [
        (("concurrency", "pools", "defaultLimit"), ("concurrency", "pools", "default_limit")),
        (("concurrency", "pools", "granularity"), ("concurrency", "pools", "granularity")),
        (
            ("concurrency", "runs", "maxConcurrentRuns"),
            ("concurrency", "runs", "max_concurrent_runs"),
        ),
        (
            ("concurrency", "runs", "tagConcurrencyLimits"),
            ("concurrency", "runs", "tag_concurrency_limits"),
        ),
        (
            (
                "dagsterDaemon",
                "runCoordinator",
                "config",
                "queuedRunCoordinator",
                "dequeueUseThreads",
            ),
            ("run_queue", "dequeue_use_threads"),
        ),
        (
            (
                "dagsterDaemon",
                "runCoordinator",
                "config",
                "queuedRunCoordinator",
                "dequeueNumWorkers",
            ),
            ("run_queue", "dequeue_num_workers"),
        ),
        (("dagsterDaemon", "runMonitoring", "enabled"), ("run_monitoring", "enabled")),
        (
            ("dagsterDaemon", "runMonitoring", "startTimeoutSeconds"),
            ("run_monitoring", "start_timeout_seconds"),
        ),
        (
            ("dagsterDaemon", "runMonitoring", "cancelTimeoutSeconds"),
            ("run_monitoring", "cancel_timeout_seconds"),
        ),
        (
            ("dagsterDaemon", "runMonitoring", "maxResumeRunAttempts"),
            ("run_monitoring", "max_resume_run_attempts"),
        ),
        (
            ("dagsterDaemon", "runMonitoring", "pollIntervalSeconds"),
            ("run_monitoring", "poll_interval_seconds"),
        ),
        (
            ("dagsterDaemon", "runMonitoring", "freeSlotsAfterRunEndSeconds"),
            ("run_monitoring", "free_slots_after_run_end_seconds"),
        ),
        (("dagsterDaemon", "sensors", "useThreads"), ("sensors", "use_threads")),
        (("dagsterDaemon", "sensors", "numWorkers"), ("sensors", "num_workers")),
        (("dagsterDaemon", "schedules", "useThreads"), ("schedules", "use_threads")),
        (("dagsterDaemon", "schedules", "numWorkers"), ("schedules", "num_workers")),
        (
            ("retention", "sensor", "purgeAfterDays"),
            ("retention", "sensor", "purge_after_days"),
        ),
        (
            ("retention", "schedule", "purgeAfterDays"),
            ("retention", "schedule", "purge_after_days"),
        ),
        (("pythonLogs", "pythonLogLevel"), ("python_logs", "python_log_level")),
        (("telemetry", "enabled"), ("telemetry", "enabled")),
    ],
)
def test_the_policies_are_those_of_the_production_dagster_yaml(values_path, instance_path):
    value, setting = values(), production()
    for key in values_path:
        value = value[key]
    for key in instance_path:
        setting = setting[key]

    assert value == setting


def test_every_policy_of_the_production_dagster_yaml_is_carried_over():
    # What the chart cannot carry: storage and launcher are its own, max_runtime_seconds has no
    # value in the chart (the archive and retrieve jobs carry their own `dagster/max_runtime`),
    # and K8s launches runs without the code server, so no retries for it are needed.
    carried = {
        "concurrency",
        "run_queue",
        "run_monitoring",
        "sensors",
        "schedules",
        "retention",
        "python_logs",
        "telemetry",
    }
    uncarried = {"storage", "run_launcher"}

    assert set(production()) == carried | uncarried
    assert set(production()["run_monitoring"]) - {"max_runtime_seconds"} == {
        "enabled",
        "start_timeout_seconds",
        "cancel_timeout_seconds",
        "max_resume_run_attempts",
        "poll_interval_seconds",
        "free_slots_after_run_end_seconds",
    }
    assert set(production()["run_queue"]) - {"dequeue_use_threads", "dequeue_num_workers"} == {
        "max_user_code_failure_retries",
        "user_code_failure_retry_delay",
    }
