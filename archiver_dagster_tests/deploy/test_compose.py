"""deploy/docker-compose.yml: the services, every variable, the volumes the runs share.

No container engine runs here; `test_image.py` (slow) starts the services' commands from the
image's dependencies and runs their healthchecks.
"""

import re

import pytest
import yaml

from archiver_dagster.settings import SETTINGS, SETTINGS_BY_NAME
from archiver_dagster_tests.deploy.files import DEPLOY, REPOSITORY, env_example

COMPOSE = DEPLOY / "docker-compose.yml"
ARCHIVER_SERVICES = ("pools", "code-location", "daemon")
# Paths the containers see; the host folders are LTS_HOST_PATH and SCRATCH_HOST_PATH.
FIXED = {"LTS_STORAGE_ROOT": "/mnt/lts", "ARCHIVER_SCRATCH_FOLDER": "/scratch"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def interpolation(value: str) -> tuple[str, str, str] | None:
    """(variable, operator, default or message) of a value that is one `${...}`, else None."""
    match = re.fullmatch(r"\$\{([A-Z0-9_]+)(:-|:\?)(.*)\}", value)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def test_the_services_of_deploy_docker_and_the_pools_step():
    services = compose()["services"]

    assert set(services) == {"postgres", "pools", "code-location", "webserver", "daemon"}
    for name in ("postgres", "code-location", "webserver", "daemon"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] == "unless-stopped", name
    assert services["pools"]["command"] == ["archiver-dagster", "apply-pools"]
    assert services["pools"]["restart"] == "no"


def test_the_start_follows_the_steps():
    depends = {name: spec.get("depends_on", {}) for name, spec in compose()["services"].items()}

    assert depends["pools"] == {"postgres": {"condition": "service_healthy"}}
    assert depends["code-location"] == {"pools": {"condition": "service_completed_successfully"}}
    for name in ("webserver", "daemon"):
        assert depends[name] == {"code-location": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", ARCHIVER_SERVICES)
def test_the_archiver_containers_name_every_archiver_variable(name):
    environment = service(name)["environment"]
    example = env_example()

    assert {setting.name for setting in SETTINGS} <= set(environment)
    for setting in SETTINGS:
        value = environment[setting.name]
        if setting.name in FIXED:
            # Documented with its default where it has one (the scratch folder's: empty, none).
            assert value == FIXED[setting.name]
            documented = FIXED[setting.name] if setting.default is None else setting.default
            assert example[setting.name] == documented
            continue
        variable, operator, rest = interpolation(value) or ("", "", "")
        assert variable == setting.name, value
        if setting.default is None:
            assert operator == ":?", f"{setting.name} is required: compose must stop without it"
        else:
            assert (operator, rest) == (":-", setting.default), setting.name
            assert example[setting.name] == setting.default


def test_secrets_have_no_default():
    for name in ARCHIVER_SERVICES:
        environment = service(name)["environment"]
        for setting in SETTINGS:
            if setting.secret and setting.default is None:
                assert interpolation(environment[setting.name])[1] == ":?", setting.name
            elif setting.secret:  # optional (the alert webhook): empty unless given
                assert interpolation(environment[setting.name])[1:] == (":-", ""), setting.name
        assert interpolation(environment["DAGSTER_PG_PASSWORD"])[1] == ":?"


def test_every_variable_the_compose_file_reads_is_documented_with_its_default():
    text = COMPOSE.read_text()
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    archiver = env_example()
    deployment = env_example(DEPLOY / "compose.env.example")

    assert read == set(archiver) - set(FIXED) | set(deployment)
    assert not set(archiver) & set(deployment)
    for variable, operator, rest in map(interpolation, re.findall(r"\$\{[^}]*\}", text)):
        if operator == ":-":
            assert deployment.get(variable, archiver.get(variable)) == rest, variable
        else:
            assert variable in rest, f"the message of {variable} must name it"
    assert set(SETTINGS_BY_NAME) == set(archiver)


def test_runs_get_the_volumes_and_network_of_the_code_location():
    spec = compose()
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    launcher = instance["run_launcher"]["config"]
    names = {key: volume["name"] for key, volume in spec["volumes"].items()}
    code_location = {
        f"{names[mount.split(':')[0]]}:{mount.split(':')[1]}"
        for mount in service("code-location")["volumes"]
    }

    assert code_location == set(launcher["container_kwargs"]["volumes"])
    assert {f"archiver-lts:{FIXED['LTS_STORAGE_ROOT']}"} <= code_location
    assert {f"archiver-scratch:{FIXED['ARCHIVER_SCRATCH_FOLDER']}"} <= code_location
    assert spec["networks"]["default"]["name"] == launcher["network"]
    code_location_env = service("code-location")["environment"]
    assert code_location_env["DAGSTER_CURRENT_IMAGE"] == service("code-location")["image"]


def test_the_webserver_and_the_daemon_load_the_code_location_service():
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    [server] = [entry["grpc_server"] for entry in workspace["load_from"]]
    command = service("code-location")["command"]

    assert server["host"] == "code-location"
    assert str(server["port"]) == command[command.index("-p") + 1]
    assert "workspace.yaml" in service("webserver")["entrypoint"]
    assert "workspace.yaml" in service("daemon")["command"]


def test_the_ui_stays_on_the_host_unless_told():
    [port] = service("webserver")["ports"]

    assert port.startswith("${DAGSTER_WEBSERVER_ADDRESS:-127.0.0.1:")


def test_the_image_is_built_from_the_repository_dockerfile():
    for name in (*ARCHIVER_SERVICES, "webserver"):
        build = service(name)["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == (
            REPOSITORY / "Dockerfile"
        )
