"""Checksums the ingestor registered (origdatablock `chk`, `chkAlg`): which ones can be checked.

SciCat encodes a file's checksum algorithm in its origdatablock (`chkAlg`), not in the file's
entry; the packer can check a `chk` only when `chkAlg` names an algorithm it computes and the
`chk` is a hex digest of that algorithm's length. Nothing is guessed: a `chk` without a usable
`chkAlg` is reported as not checkable, never compared.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pydantic

from archiver_dagster.packing.checksums import SUPPORTED_ALGORITHMS, new_hasher

# Spellings of algorithm names seen in the wild, after lower-casing and removing "-" and "_".
_ALIASES = {"sha2256": "sha256", "sha2512": "sha512", "blake2b512": "blake2b"}
_HEX_DIGITS = frozenset("0123456789abcdef")
MAX_NAMED_FILES = 5


class RegisteredChecksum(pydantic.BaseModel, frozen=True):
    """A file's checksum as the ingestor registered it, in an algorithm the packer computes."""

    algorithm: str = pydantic.Field(description="hashlib name, one of SUPPORTED_ALGORITHMS.")
    value: str = pydantic.Field(description="Lower-case hex digest.")


@dataclass(frozen=True)
class NotCheckable:
    """A registered `chk` the packer cannot check, and why."""

    reason: str


def algorithm_name(chk_alg: str | None) -> str | None:
    """The hashlib name of a SciCat `chkAlg` the packer computes, or None.

    Case, `-` and `_` are ignored (`SHA-256`, `sha_256`, `sha2-256` are sha256); an ambiguous
    name such as `sha2` is not guessed.
    """
    if not chk_alg:
        return None
    key = chk_alg.strip().lower().replace("-", "").replace("_", "")
    key = _ALIASES.get(key, key)
    return key if key in SUPPORTED_ALGORITHMS else None


def registered_checksum(
    chk: str | None, chk_alg: str | None
) -> RegisteredChecksum | NotCheckable | None:
    """What can be checked of a file's registered `chk`: None when there is no `chk` at all."""
    if chk is None or not chk.strip():
        return None
    if not chk_alg:
        return NotCheckable("its origdatablock names no chkAlg")
    algorithm = algorithm_name(chk_alg)
    if algorithm is None:
        return NotCheckable(f"chkAlg {chk_alg!r} is not one of {', '.join(SUPPORTED_ALGORITHMS)}")
    value = chk.strip().lower()
    length = new_hasher(algorithm).digest_size * 2
    if len(value) != length or not _HEX_DIGITS.issuperset(value):
        return NotCheckable(f"chk is not a hex digest of {length} digits ({algorithm})")
    return RegisteredChecksum(algorithm=algorithm, value=value)


def checkable_files(
    files: Iterable[tuple[str, str | None, str | None]],
) -> tuple[dict[str, RegisteredChecksum], dict[str, str]]:
    """Splits `(path, chk, chkAlg)` into the checksums to check and the reasons others cannot be.

    Files without a `chk` appear in neither.
    """
    checkable: dict[str, RegisteredChecksum] = {}
    not_checkable: dict[str, str] = {}
    for path, chk, chk_alg in files:
        outcome = registered_checksum(chk, chk_alg)
        if isinstance(outcome, RegisteredChecksum):
            checkable[path] = outcome
        elif isinstance(outcome, NotCheckable):
            not_checkable[path] = outcome.reason
    return checkable, not_checkable


def named_files(paths: Sequence[str], limit: int = MAX_NAMED_FILES) -> str:
    """The first `limit` paths, comma-separated, and how many more there are."""
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown


class SourceChecksumError(ValueError):
    """Data read for some members differs from the checksum the ingestor registered."""

    def __init__(self, mismatches: Sequence[tuple[str, str]], checked: int) -> None:
        self.paths = [path for path, _ in mismatches]
        named = named_files([f"{path} ({algorithm})" for path, algorithm in mismatches])
        super().__init__(
            f"{len(mismatches)} of {checked} files differ from the checksum registered in "
            f"SciCat (origdatablock chk): {named}"
        )
