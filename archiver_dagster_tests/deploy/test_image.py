"""The image installs exactly what the suite runs with (deploy/requirements.lock)."""

import re
import shlex

from archiver_dagster_tests.deploy.files import DEPLOY, REPOSITORY
from devstack.lock import build_pins, render_lock

DOCKERFILE = REPOSITORY / "Dockerfile"
LOCK = DEPLOY / "requirements.lock"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def pip_commands() -> list[list[str]]:
    """Every `pip ...` command the Dockerfile runs, as argument lists."""
    commands = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "RUN":
            for command in re.split(r"&&|;", arguments):
                words = shlex.split(command)
                if words and words[0] == "pip":
                    commands.append(words)
    return commands


def test_the_lock_pins_what_this_environment_runs():
    assert LOCK.read_text() == render_lock(), "run `make lock` (python -m devstack.lock)"


def test_every_line_of_the_lock_is_an_exact_pin():
    pins = [line for line in LOCK.read_text().splitlines() if not line.startswith("#")]

    assert pins
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*==[A-Za-z0-9.+!-]+", pin) for pin in pins), pins
    for package in ("dagster", "dagster-postgres", "psycopg2-binary", "sqlalchemy", "setuptools"):
        assert any(pin.startswith(f"{package}==") for pin in pins), package


def test_the_dockerfile_installs_the_lock_and_the_package_without_resolving():
    lock_copies = [
        arguments
        for instruction, arguments in dockerfile_instructions()
        if instruction == "COPY" and arguments.startswith("deploy/requirements.lock ")
    ]
    assert lock_copies == ["deploy/requirements.lock ./requirements.lock"]

    assert pip_commands() == [
        ["pip", "install", "--no-deps", "-r", "requirements.lock"],
        ["pip", "install", "--no-deps", "--no-build-isolation", "."],
        ["pip", "check"],
    ]


def test_the_build_backend_is_pinned_and_locked():
    pins = build_pins()

    assert pins
    for name, version in pins.items():
        assert f"{name}=={version}" in LOCK.read_text().splitlines()


def test_the_build_context_holds_every_file_the_dockerfile_copies():
    allowed = {
        line[1:]
        for line in (REPOSITORY / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    sources = [
        arguments.split()[0]
        for instruction, arguments in dockerfile_instructions()
        if instruction == "COPY"
    ]

    assert set(sources) <= allowed
    for source in sources:
        assert (REPOSITORY / source).exists(), source
