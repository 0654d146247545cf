"""Fixtures shared by the SciCat simulator tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver_dagster_tests.devstack.test_scicat_sim_support import Api
from devstack.scicat_sim import SciCatSimulator


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SciCatSimulator]:
    """A simulator persisting to a fresh state file, stopped after the test."""
    with SciCatSimulator(state_file=tmp_path / "state.json") as simulator:
        yield simulator


@pytest.fixture
def api(sim: SciCatSimulator) -> Api:
    """A logged-in client of `sim`."""
    return Api(sim.url)
