import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.packing.paths import UnsafePathError, safe_relative_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.bin", "a.bin"),
        ("raw/run-1/a.bin", "raw/run-1/a.bin"),
        ("./raw/a.bin", "raw/a.bin"),
        ("données/μ-scope/ファイル.bin", "données/μ-scope/ファイル.bin"),
        (".hidden/..dots../x.", ".hidden/..dots../x."),
        ("with space/and:colon;semi", "with space/and:colon;semi"),
        ("/".join(["deep"] * 50), "/".join(["deep"] * 50)),
        ("x" * 300, "x" * 300),
    ],
)
def test_accepts_and_normalises(path: str, expected: str) -> None:
    assert safe_relative_path(path) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "empty"),
        ("./", "empty"),
        ("/etc/passwd", "absolute"),
        ("//server/share", "absolute"),
        ("..", "'..' segment"),
        ("../x", "'..' segment"),
        ("a/../../x", "'..' segment"),
        ("a/..", "'..' segment"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("a/./b", "'.' segment"),
        (".", "'.' segment"),
        ("././a", "'.' segment"),
        ("a/.", "'.' segment"),
        ("a\x00b", "control character U+0000"),
        ("a\nb", "control character U+000A"),
        ("tab\there", "control character U+0009"),
        ("del\x7f", "control character U+007F"),
        ("esc\x1b[31m", "control character U+001B"),
        ("a\\b", "backslash"),
        ("..\\..\\windows", "backslash"),
        ("lone\ud800surrogate", "UTF-8"),
    ],
)
def test_rejects_unsafe(path: str, reason: str) -> None:
    with pytest.raises(UnsafePathError, match="unsafe path") as info:
        safe_relative_path(path)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


def test_rejects_non_string() -> None:
    with pytest.raises(UnsafePathError, match="expected str"):
        safe_relative_path(b"a.bin")  # type: ignore[arg-type]


_segment = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="/\\"), min_size=1
).filter(lambda s: s not in (".", ".."))


@given(st.lists(_segment, min_size=1, max_size=5))
def test_joined_safe_segments_round_trip(segments: list[str]) -> None:
    path = "/".join(segments)
    assert safe_relative_path(path) == path
    assert safe_relative_path("./" + path) == path
