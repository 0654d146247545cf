"""The code location loads with every variable set, as the deployments set them all."""

import itertools

from dagster._core.remote_representation.external_data import RepositorySnap

from archiver_dagster.definitions import build_definitions
from archiver_dagster.settings import EXECUTOR_CHOICES
from archiver_dagster_tests.deploy.files import env_example


def test_the_code_location_loads_with_every_variable_of_the_example_set(monkeypatch):
    # Set, a variable reaches its resource field as an EnvVar, whose type must match the field's.
    for name, value in env_example().items():
        monkeypatch.setenv(name, value)

    for executor, scratch in itertools.product(EXECUTOR_CHOICES, ("", "/scratch")):
        monkeypatch.setenv("ARCHIVER_SCRATCH_FOLDER", scratch)  # both archival chains
        snapshot = RepositorySnap.from_def(build_definitions(executor).get_repository_def())
        assert snapshot.job_datas or snapshot.job_refs
