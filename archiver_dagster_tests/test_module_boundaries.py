"""Retrieval never reaches into archival: what both need lives in `archive_record`.

Checked on the source (an ast walk), following imports within the package, so that an import
through any intermediate module counts too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archiver_dagster"
ROOT = "archiver_dagster"


def module_file(name: str) -> Path | None:
    """The source file of module `name` of the package, if it is one."""
    relative = Path(*name.split(".")[1:])
    for candidate in (PACKAGE / relative / "__init__.py", PACKAGE / f"{relative}.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """The package's modules `path` imports (`from x import y` counts `x` and `x.y`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == ROOT and module_file(name)}


def reachable(package: str) -> dict[str, str]:
    """Every module of the package `package` imports, directly or not: module → importer."""
    start = {
        f"{package}.{path.stem}" if path.stem != "__init__" else package: package
        for path in (PACKAGE / package.split(".")[1]).glob("*.py")
    }
    found = dict(start)
    todo = list(start)
    while todo:
        name = todo.pop()
        path = module_file(name)
        assert path is not None, name
        for imported in imported_modules(path):
            if imported not in found:
                found[imported] = name
                todo.append(imported)
    return found


def chain(found: dict[str, str], name: str) -> str:
    """How `name` was reached, as `a -> b -> name`."""
    steps = [name]
    while found[steps[-1]] != steps[-1] and found[steps[-1]] not in steps:
        steps.append(found[steps[-1]])
    return " -> ".join(reversed(steps))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (f"{ROOT}.retrieval", [f"{ROOT}.archival"]),
        (f"{ROOT}.archive_record", [f"{ROOT}.archival", f"{ROOT}.retrieval"]),
    ],
)
def test_package_does_not_import(package: str, forbidden: list[str]) -> None:
    found = reachable(package)
    assert len(found) > 1, f"nothing found under {package}"
    reached = [
        chain(found, name)
        for name in sorted(found)
        if any(name == bad or name.startswith(f"{bad}.") for bad in forbidden)
    ]
    assert reached == []


def test_the_walk_sees_an_import_of_archival() -> None:
    # The automation package does import archival: the walk must notice it.
    found = reachable(f"{ROOT}.automation")
    assert any(name.startswith(f"{ROOT}.archival.") for name in found)
