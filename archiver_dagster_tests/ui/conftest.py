"""The Dagster UI on the demo's stack, one archived dataset, and Debian's Chromium driving it.

The module's stack is the demo's (SciCat simulator, S3 server, LTS folder, the repository's
dagster.yaml with the pools applied); the sample dataset is archived by the archive job in
process, checks included, then `dagster-webserver` serves the instance on 127.0.0.1 and
Playwright drives the system's Chromium (Playwright's own browser download cannot run here).
"""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dagster import DagsterInstance

from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME
from archiver_dagster.definitions import build_definitions
from archiver_dagster.pools import apply_pool_limits, configured_pool_limits
from archiver_dagster.settings import definition_time_setting
from archiver_dagster_tests.helpers import wait_until
from devstack.demo import prepare_dagster_home
from devstack.dev import SAMPLE_PID, seed_sample
from devstack.repository import REPOSITORY
from devstack.s3_server import free_port
from devstack.stack import LocalStack

WORKSPACE = REPOSITORY / "workspace.yaml"
WEBSERVER_START_S = 180
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS_ENV = "ARCHIVER_UI_SCREENSHOTS"


@dataclass(frozen=True)
class ArchivedDemo:
    """A DAGSTER_HOME holding one archived dataset, and the stack's variables."""

    home: Path
    env: dict[str, str]
    pid: str
    pool_limits: dict[str, int]


@pytest.fixture(scope="module")
def archived_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchivedDemo]:
    """The demo's stack with the sample dataset archived by the archive job, checks included."""
    root = tmp_path_factory.mktemp("ui")
    home = prepare_dagster_home(root / "dagster_home")
    with LocalStack(root / "stack") as stack, pytest.MonkeyPatch.context() as patch:
        env = {**stack.env(), "DAGSTER_HOME": str(home)}
        for name, value in env.items():
            patch.setenv(name, value)
        with DagsterInstance.get() as instance:
            limits = apply_pool_limits(instance, configured_pool_limits())
            seed_sample(stack, instance)
            # Built now, with the stack's variables set: the module's `defs` may have been
            # built at collection, with the defaults (a 180 s settle time before read-back).
            defs = build_definitions(definition_time_setting("ARCHIVER_EXECUTOR"))
            result = defs.resolve_job_def(ARCHIVE_JOB_NAME).execute_in_process(
                partition_key=SAMPLE_PID, instance=instance
            )
        assert result.success
        yield ArchivedDemo(home, env, SAMPLE_PID, dict(limits))


@pytest.fixture(scope="module")
def webserver(archived_demo: ArchivedDemo) -> Iterator[str]:
    """`dagster-webserver` on the demo's instance and workspace; its base URL."""
    port = free_port()
    executable = Path(sys.executable).parent / "dagster-webserver"
    log = (archived_demo.home / "webserver.log").open("w")
    process = subprocess.Popen(
        [str(executable), "-h", "127.0.0.1", "-p", str(port), "-w", str(WORKSPACE)],
        cwd=archived_demo.home,
        env={**os.environ, **archived_demo.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server is stopped with it
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited; see {log.name}", pytrace=False)
        return _answers(base + "/server_info")

    try:
        wait_until(answers, WEBSERVER_START_S, f"dagster-webserver to answer (see {log.name})")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="module")
def chromium_path() -> str:
    """Debian's Chromium; the tests fail, saying how to install it, when it is missing."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Chromium is not installed: apt-get install chromium (.ci/run does)", pytrace=False
        )
    return path


@pytest.fixture
def page(chromium_path: str, webserver: str) -> Iterator[object]:
    """A Playwright page of the UI at 1600 x 1000, Dagster's community prompt dismissed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=webserver)
        # The prompt a new browser profile gets over every page, dismissed as "Skip" does.
        context.add_init_script("localStorage.setItem('communityNux', JSON.stringify('1'))")
        context.set_default_timeout(30_000)
        try:
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: $ARCHIVER_UI_SCREENSHOTS (`make screenshots`) or a temp folder."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
