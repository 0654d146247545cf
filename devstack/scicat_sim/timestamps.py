"""Time stamps in the format the SciCat backend renders them."""

from datetime import UTC, datetime


def now_iso() -> str:
    """Returns the current UTC time as ISO 8601 with milliseconds and a `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
