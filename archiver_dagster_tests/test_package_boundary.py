"""The product ships alone: no import of the development tooling, no devstack commands."""

import ast
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

import archiver_dagster
from archiver_dagster.cli import build_parser
from devstack.cli import build_parser as build_devstack_parser

PRODUCT = Path(archiver_dagster.__file__).resolve().parent
REPOSITORY = PRODUCT.parent
TOOLING = "devstack"
DEVSTACK_COMMANDS = ("demo", "dev", "stack")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (lazy imports inside functions included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_the_product_never_imports_the_devstack():
    sources = sorted(PRODUCT.rglob("*.py"))
    assert len(sources) > 50
    offenders = {
        f"{path.relative_to(REPOSITORY)}: {module}"
        for path in sources
        for module in imported_modules(path)
        if module == TOOLING or module.startswith(f"{TOOLING}.")
    }
    assert not offenders


def packages_found(include: list[str], exclude: list[str]) -> set[str]:
    """The packages setuptools' `packages.find` puts in the wheel (same glob on dotted names)."""
    tops = [path for path in REPOSITORY.iterdir() if (path / "__init__.py").is_file()]
    names = {
        ".".join(init.parent.relative_to(REPOSITORY).parts)
        for top in tops
        for init in top.rglob("__init__.py")
    }
    return {
        name
        for name in names
        if any(fnmatchcase(name, pattern) for pattern in include)
        and not any(fnmatchcase(name, pattern) for pattern in exclude)
    }


def test_the_distribution_holds_the_product_alone():
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    packages = packages_found(find["include"], find["exclude"])
    assert "archiver_dagster" in packages
    assert "archiver_dagster.packing" in packages
    assert all(name.split(".")[0] == "archiver_dagster" for name in packages), packages


@pytest.mark.parametrize("command", DEVSTACK_COMMANDS)
def test_the_product_cli_has_no_devstack_commands(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_product_cli_keeps_its_operations_commands():
    for command in ("check-config", "check-scicat", "apply-pools"):
        assert build_parser().parse_args([command]).command == command


@pytest.mark.parametrize("command", DEVSTACK_COMMANDS)
def test_the_devstack_cli_offers_the_development_commands(command: str) -> None:
    args = build_devstack_parser().parse_args([command])
    assert args.command == command
    assert Path(args.root) == Path(".devstack") / command
