"""What the status sensor may log of a retrieve job's links: keys and expiry, never a URL."""

from datetime import UTC, datetime

from archiver_dagster.retrieval.results import describe_links

SIGNED = "https://s3.example.org/b/k?X-Amz-Signature=abc"


def entries(count: int) -> list[dict[str, object]]:
    return [{"archiveId": f"p/datablocks/p_{i}.tar", "url": SIGNED} for i in range(count)]


def test_names_keys_and_expiry_and_no_url() -> None:
    text = describe_links(entries(2), datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert text == (
        "2 download links valid until 2026-03-04T05:06:07Z "
        "(keys: p/datablocks/p_0.tar, p/datablocks/p_1.tar)"
    )


def test_a_long_list_of_keys_is_cut() -> None:
    text = describe_links(entries(25), datetime(2026, 1, 1, tzinfo=UTC), max_keys=3)
    assert text.startswith("25 download links valid until 2026-01-01T00:00:00Z (keys: ")
    assert text.endswith("p/datablocks/p_2.tar and 22 more)")
    assert "X-Amz" not in text
