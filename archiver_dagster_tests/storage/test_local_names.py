"""Local names of PIDs: bounded, readable, one per key, and the same in every release."""

import hashlib
from urllib.parse import unquote

from hypothesis import assume, example, given
from hypothesis import strategies as st

from archiver_dagster.storage.local_names import HASH_SEPARATOR, MAX_LOCAL_NAME_BYTES, local_name

# Any text, biased towards what makes names tricky: separators, dots, `%`, `+`, `~`, long runs
# and multi-byte characters (up to 4 bytes, 12 once percent-encoded).
KEYS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="./\\%+~ab\x00 é𝄞", max_size=220),
    st.text(min_size=60, max_size=200),
)


@given(KEYS)
@example("")
@example(".")
@example("..")
@example("a/b")
@example("%2F")
@example("𝄞" * 50)
def test_name_is_bounded_flat_and_decodes_to_the_key_unless_hashed(key: str) -> None:
    name = local_name(key)
    assert "/" not in name and "\x00" not in name
    assert name not in (".", "..", "")
    assert name.isascii() and len(name) <= MAX_LOCAL_NAME_BYTES
    if HASH_SEPARATOR in name:
        start, digest = name.split(HASH_SEPARATOR)
        assert digest == hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
        assert key.startswith(unquote(start))  # readable: the key's first characters
        assert start or not key
    else:
        assert unquote(name) == key


@given(KEYS, KEYS)
@example("a/b", "a%2Fb")
@example(".", "%2E")
@example("", "+")
@example("x" * 300, "x" * 301)
def test_different_keys_get_different_names(first: str, second: str) -> None:
    assume(first != second)
    assert local_name(first) != local_name(second)


def test_a_key_spelling_a_hashed_name_gets_another_name() -> None:
    long_key = "20.500.12345/" + "é" * 90
    hashed = local_name(long_key)
    assert HASH_SEPARATOR in hashed
    assert local_name(unquote(hashed)) != hashed  # its `+` is escaped


def test_short_names_are_the_percent_encoding() -> None:
    assert local_name("20.500.12345/x y") == "20.500.12345%2Fx%20y"
    assert local_name("..") == "%2E%2E"
    assert local_name("a+b~c") == "a%2Bb~c"
    assert local_name("x" * MAX_LOCAL_NAME_BYTES) == "x" * MAX_LOCAL_NAME_BYTES


def test_long_name_keeps_whole_characters_and_is_stable() -> None:
    key = "20.500.12345/" + "é" * 90
    # 135 characters of room: the PID's prefix (15) and 20 whole `é` (6 each), not a cut escape
    assert local_name(key) == (
        "20.500.12345%2F"
        + "%C3%A9" * 20
        + "+"
        + "58a10e0036c4371d299242b0fd92687b3b497fef1486a0d2c77e46da31f06a96"
    )
