"""Local file names derived from a PID (or any partition key): readable, bounded, one per key.

A PID becomes one flat name (scratch folder, manifest file) percent-encoded whole, so `/`, `.`
and `..` are inert. Percent-encoding can triple a PID's length (a 200-byte PID up to 600
bytes), past a file name's 255 bytes: a name that would be longer than `MAX_LOCAL_NAME_BYTES`
keeps a readable start and ends with `+` and the SHA-256 of the whole key (the empty key,
which has no name of its own, is `+` and its hash). Percent-encoding
always escapes `+` (as `%2B`), so only such hashed names contain one: a hashed name can never
be the name of another key, and two keys share a hashed name only if their hashes collide.
The name is a pure function of the key, so every run and every release finds the same one.
"""

import hashlib
from urllib.parse import quote

# Longest name this module returns, in bytes (ASCII). Leaves 55 bytes below a file name's 255
# for suffixes (`.json.partial`) and for what is stored inside a folder of this name.
MAX_LOCAL_NAME_BYTES = 200
HASH_SEPARATOR = "+"
_DIGEST_CHARS = 64


def _encode(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


def local_name(key: str) -> str:
    """The file name for `key`: percent-encoded whole, or a readable start and its hash."""
    encoded = _encode(key)
    if encoded in (".", ".."):
        return encoded.replace(".", "%2E")  # `.` is never escaped otherwise: no other key's name
    if 0 < len(encoded) <= MAX_LOCAL_NAME_BYTES:
        return encoded
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
    room = MAX_LOCAL_NAME_BYTES - len(HASH_SEPARATOR) - _DIGEST_CHARS
    start: list[str] = []
    used = 0
    for char in key:  # whole characters only, so the start stays readable
        piece = _encode(char)
        if used + len(piece) > room:
            break
        start.append(piece)
        used += len(piece)
    return f"{''.join(start)}{HASH_SEPARATOR}{digest}"
