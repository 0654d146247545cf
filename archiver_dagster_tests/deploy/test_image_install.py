"""The image's Python side without a container engine (slow: installs from PyPI).

A clean virtualenv gets the dependencies exactly as the Dockerfile installs them, the pools
step and the three services start from it with the production instance on PostgreSQL, with the
commands of deploy/docker-compose.yml, and the compose healthchecks pass against them.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME
from archiver_dagster_tests.deploy.files import DEPLOY, REPOSITORY, env_example
from devstack.postgres import PostgresServer
from devstack.s3_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ENTRYPOINT = REPOSITORY / "docker" / "entrypoint.sh"
START_TIMEOUT_S = 180.0
REFUSED = "http://127.0.0.1:9"  # nothing listens: the sensors' SciCat calls fail at once


def run(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=1200, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def install_like_the_dockerfile(root: Path) -> tuple[Path, Path]:
    """A clean virtualenv with the lock and the package installed as the Dockerfile does them.

    Returns its bin folder and the app folder, laid out as the image's WORKDIR.
    """
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    pip = str(venv / "bin" / "pip")
    app = root / "app"
    app.mkdir()
    shutil.copy(DEPLOY / "requirements.lock", app / "requirements.lock")
    run([pip, "install", "--no-deps", "-r", "requirements.lock"], cwd=app)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPOSITORY / name, app / name)
    shutil.copytree(
        REPOSITORY / "archiver_dagster",
        app / "archiver_dagster",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    run([pip, "install", "--no-deps", "--no-build-isolation", "."], cwd=app)
    run([pip, "check"], cwd=app)
    return venv / "bin", app


def compose_services() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]


def localised(args: Sequence[str], ports: dict[str, int], workspace: Path) -> list[str]:
    """A compose command or healthcheck for this host: 127.0.0.1, free ports, the workspace."""
    result = []
    for arg in args:
        arg = arg.replace("0.0.0.0", "127.0.0.1")
        for fixed, free in ports.items():
            arg = str(free) if arg == fixed else arg.replace(f":{fixed}/", f":{free}/")
        result.append(str(workspace) if arg == "workspace.yaml" else arg)
    return result


def wait_healthy(check: list[str], env: dict[str, str], process: subprocess.Popen, log: Path):
    """Runs a compose healthcheck (`CMD` form) until it passes; fails if the service exits."""
    assert check[0] == "CMD", check
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{check} service exited:\n{log.read_text()[-3000:]}"
        if subprocess.run(check[1:], env=env, capture_output=True, timeout=60).returncode == 0:
            return
        time.sleep(2)
    pytest.fail(f"{check[1:]} did not pass within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def services_root(tmp_path: Path) -> Iterator[tuple[Path, Callable[..., subprocess.Popen]]]:
    """A folder for the services' logs and a starter whose processes are stopped afterwards."""
    processes: list[subprocess.Popen] = []

    def start(name: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        with (tmp_path / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        processes.append(process)
        return process

    yield tmp_path, start
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def archiver_environment(root: Path, server: PostgresServer, database: str) -> dict[str, str]:
    """.env.example's values for a host without SciCat or S3, with folders of this test."""
    env = {
        **env_example(),
        **server.env(database),
        "SCICAT_ENDPOINT": REFUSED,
        "S3_ENDPOINT": REFUSED,
        "LTS_STORAGE_ROOT": str(root / "lts"),
        "ARCHIVER_SCRATCH_FOLDER": str(root / "scratch"),
    }
    for folder in ("lts", "scratch"):
        (root / folder).mkdir()
    return env


def test_the_image_installs_and_its_services_start(postgres_server, services_root, monkeypatch):
    root, start = services_root
    bin_dir, app = install_like_the_dockerfile(root)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    ports = {"4000": free_port(), "3000": free_port()}
    workspace = root / "workspace.yaml"
    workspace.write_text(
        (DEPLOY / "workspace.yaml")
        .read_text()
        .replace("host: code-location", "host: 127.0.0.1")
        .replace("port: 4000", f"port: {ports['4000']}")
    )
    services = compose_services()
    with ExitStack() as exits:
        database = exits.enter_context(postgres_server.database())
        base = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "DAGSTER_HOME": str(home),
        }
        archiver = {**base, **archiver_environment(root, postgres_server, database)}
        webserver_env = {**base, **postgres_server.env(database)}

        installed = run(
            [
                str(bin_dir / "python"),
                "-c",
                "import archiver_dagster; print(archiver_dagster.__file__)",
            ],
            env=archiver,
            cwd=root,
        )
        assert installed.startswith(str(bin_dir.parent)), installed

        # The pools step, through the image's entrypoint as compose runs it.
        run([str(ENTRYPOINT), *services["pools"]["command"]], env=archiver, cwd=app)

        code_location = start(
            "code-location",
            [str(ENTRYPOINT), *localised(services["code-location"]["command"], ports, workspace)],
            archiver,
            app,
        )
        check = localised(services["code-location"]["healthcheck"]["test"], ports, workspace)
        wait_healthy(check, archiver, code_location, root / "code-location.log")

        webserver = start(
            "webserver",
            localised(services["webserver"]["entrypoint"], ports, workspace),
            webserver_env,
            app,
        )
        check = localised(services["webserver"]["healthcheck"]["test"], ports, workspace)
        wait_healthy(check, webserver_env, webserver, root / "webserver.log")

        daemon = start(
            "daemon",
            [str(ENTRYPOINT), *localised(services["daemon"]["command"], ports, workspace)],
            archiver,
            app,
        )
        check = localised(services["daemon"]["healthcheck"]["test"], ports, workspace)
        wait_healthy(check, archiver, daemon, root / "daemon.log")

        assert ARCHIVE_JOB_NAME in webserver_jobs(ports["3000"])
        for name, value in postgres_server.env(database).items():
            monkeypatch.setenv(name, value)
        with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
            limits = {
                pool: instance.event_log_storage.get_concurrency_info(pool).slot_count
                for pool in ("lts_write", "lts_read", "lts_free_space")
            }
        assert limits == {"lts_write": 2, "lts_read": 2, "lts_free_space": 1}


def webserver_jobs(port: int) -> set[str]:
    """The jobs the webserver shows for the code location (loaded over gRPC)."""
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {"
        " __typename ... on RepositoryLocation { repositories { jobs { name } } }"
        " ... on PythonError { message } } } } } }"
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    [entry] = answer["data"]["workspaceOrError"]["locationEntries"]
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    return {job["name"] for repository in location["repositories"] for job in repository["jobs"]}
