"""The Dagster UI as an operator sees it: lineage, a dataset's page, its checks, the pools.

Run with `make test-browser` (marker `browser`); `make screenshots` keeps the screenshots in
docs/images/ for the README.
"""

from pathlib import Path
from urllib.parse import quote

import pytest

from archiver_dagster_tests.helpers import wait_until
from archiver_dagster_tests.ui.conftest import ArchivedDemo

pytestmark = pytest.mark.browser

ASSETS = (
    "origdatablocks",
    "datablocks",
    "lts_datablocks",
    "verified_datablocks",
    "retrieved_datablocks",
)
CHECKS = ("lts_copies_intact", "scicat_consistent")
# The text of the table row holding an element: its closest ancestor that also shows a number.
ROW_TEXT = """e => {
    let n = e;
    while (n && !/\\n\\s*\\d+/.test(n.innerText)) n = n.parentElement;
    return n ? n.innerText : "";
}"""
ROW_WAIT_S = 30


def _partition_page(asset: str, pid: str, view: str = "partitions") -> str:
    return f"/assets/{asset}?view={view}&partition={quote(pid, safe='')}"


def _row_text(element) -> str:
    """The row's text once its numbers have loaded (the limits arrive after the names)."""
    return wait_until(lambda: element.evaluate(ROW_TEXT), ROW_WAIT_S, "a pool's limit")


def test_the_lineage_shows_the_five_assets_in_their_order(page, screenshots: Path):
    page.goto("/asset-groups")
    page.get_by_text("archival", exact=True).last.wait_for()
    # The graph opens with its groups collapsed; its context menu expands them.
    page.locator("body").click(position={"x": 1000, "y": 300}, button="right")
    page.get_by_role("menuitem", name="Expand all groups").click()
    for asset in ASSETS:
        page.locator(f'a[href="/assets/{asset}?view=partitions"]').first.wait_for(state="attached")
    page.screenshot(path=screenshots / "lineage.png")

    page.goto("/assets/verified_datablocks?view=lineage&lineageScope=upstream&lineageDepth=3")
    for asset in ASSETS[:3]:
        page.locator(f'a[href="/assets/{asset}?view=partitions"]').first.wait_for(state="attached")
    assert page.locator('a[href="/assets/retrieved_datablocks?view=partitions"]').count() == 0


def test_an_archived_dataset_s_partition_shows_its_metadata(
    page, archived_demo: ArchivedDemo, screenshots: Path
):
    page.goto(_partition_page("verified_datablocks", archived_demo.pid))
    details = page.locator("body")
    details.get_by_text("Materialized", exact=True).first.wait_for()
    for key in ("datablocks", "files", "bytes", "checksums_verified", "lts_paths"):
        details.get_by_text(key, exact=True).first.wait_for()
    text = details.inner_text()
    assert archived_demo.pid in text
    assert "archive_dataset_job" in text
    page.screenshot(path=screenshots / "dataset.png")


def test_an_archived_dataset_s_checks_passed(page, archived_demo: ArchivedDemo, screenshots: Path):
    page.goto(f"/assets/verified_datablocks?view=checks&partition={quote(archived_demo.pid)}")
    for check in CHECKS:
        page.get_by_text(check, exact=True).first.wait_for()
    page.get_by_text("Passed").first.wait_for()
    assert "Failed" not in page.locator("body").inner_text()
    page.get_by_text(CHECKS[0], exact=True).first.click()
    page.get_by_text("Passed").first.wait_for()
    page.screenshot(path=screenshots / "check.png")


def test_the_pools_page_shows_the_three_limits(
    page, archived_demo: ArchivedDemo, screenshots: Path
):
    page.goto("/deployment/concurrency")
    page.get_by_text("Pools", exact=True).first.wait_for()
    rows = {}
    for pool in archived_demo.pool_limits:
        link = page.get_by_role("link", name=pool, exact=True)
        link.wait_for()
        rows[pool] = _row_text(link).split()
    assert rows == {pool: [pool, str(limit)] for pool, limit in archived_demo.pool_limits.items()}
    assert set(rows) == {"lts_write", "lts_read", "lts_free_space"}
    page.screenshot(path=screenshots / "pools.png")
