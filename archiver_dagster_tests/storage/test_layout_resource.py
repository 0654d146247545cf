"""One storage prefix, configured once, is the one the landing zone, the LTS and scratch use."""

from pathlib import Path

import pytest
from dagster import EnvVar, asset, materialize

from archiver_dagster.archival.resources import PackingResource
from archiver_dagster.definitions import build_resources
from archiver_dagster.settings import SETTINGS_BY_NAME
from archiver_dagster.storage.landing_zone import LandingZoneResource
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource

PID = "20.500.12345/layout"
STORES = ("landing_zone", "lts", "packing")
# What the stores need besides the prefix, so that they can be built at run time.
REQUIRED = {
    "S3_ENDPOINT": "http://127.0.0.1:9",
    "S3_ACCESS_KEY_ID": "key",
    "S3_SECRET_ACCESS_KEY": "secret",
    "LTS_STORAGE_ROOT": "/lts",
    "ARCHIVER_SCRATCH_FOLDER": "/scratch",
}


@asset
def where(
    landing_zone: LandingZoneResource, lts: LTSResource, packing: PackingResource
) -> list[str]:
    """Where each store puts dataset `PID`."""
    return [
        landing_zone.layout(PID).raw_files_key,
        str(lts.dataset_folder(PID)),
        str(packing.scratch_datablocks(PID)),
    ]


def test_the_default_prefix_is_the_documented_one():
    assert (
        DatasetLayoutResource().storage_prefix
        == SETTINGS_BY_NAME["ARCHIVER_STORAGE_PREFIX"].default
    )


def test_one_layout_is_handed_to_every_store():
    resources = build_resources()
    layouts = [resources[name].dataset_layout for name in STORES]
    assert all(layout is layouts[0] for layout in layouts)


@pytest.mark.parametrize("prefix", [None, "site-b/archive"])
def test_archiver_storage_prefix_reaches_every_store_at_run_time(monkeypatch, prefix):
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    if prefix is None:
        monkeypatch.delenv("ARCHIVER_STORAGE_PREFIX", raising=False)
    else:
        monkeypatch.setenv("ARCHIVER_STORAGE_PREFIX", prefix)
    resources = build_resources()
    configured = resources["lts"].dataset_layout.storage_prefix
    assert isinstance(configured, EnvVar) == (prefix is not None)  # resolved by Dagster, late
    expected = prefix or "openem-network"

    result = materialize([where], resources={name: resources[name] for name in STORES})

    scratch = Path("/scratch/archival", expected, PID.replace("/", "%2F"), "datablocks")
    assert result.output_for_node("where") == [
        f"{expected}/datasets/{PID}/raw_files/",
        f"/lts/{expected}/datasets/{PID}/datablocks",
        str(scratch),
    ]
