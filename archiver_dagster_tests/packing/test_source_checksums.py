"""Checksums the ingestor registered: which can be checked, and the check while packing."""

import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.source_checksums import (
    NotCheckable,
    RegisteredChecksum,
    SourceChecksumError,
    algorithm_name,
    checkable_files,
    named_files,
    registered_checksum,
)
from archiver_dagster.packing.tar_stream import write_tar
from archiver_dagster_tests.packing.tar_samples import content

MD5_OF_ABC = hashlib.md5(b"abc").hexdigest()


@pytest.mark.parametrize(
    ("chk_alg", "name"),
    [
        ("md5", "md5"),
        ("MD5", "md5"),
        (" sha256 ", "sha256"),
        ("SHA-256", "sha256"),
        ("sha_256", "sha256"),
        ("sha2-256", "sha256"),
        ("SHA-512", "sha512"),
        ("sha-1", "sha1"),
        ("blake2b", "blake2b"),
        ("BLAKE2b-512", "blake2b"),
    ],
)
def test_algorithm_names_the_packer_computes(chk_alg: str, name: str) -> None:
    assert algorithm_name(chk_alg) == name


@pytest.mark.parametrize(
    "chk_alg", [None, "", "sha2", "sha3-256", "xxh64", "xxh128", "crc32", "adler32", "md5sum"]
)
def test_other_algorithm_names_are_not_guessed(chk_alg: str | None) -> None:
    assert algorithm_name(chk_alg) is None


def test_a_registered_md5_can_be_checked_in_any_case() -> None:
    expected = RegisteredChecksum(algorithm="md5", value=MD5_OF_ABC)
    assert registered_checksum(MD5_OF_ABC, "md5") == expected
    assert registered_checksum(f" {MD5_OF_ABC.upper()}\n", "MD5") == expected


@pytest.mark.parametrize("chk", [None, "", "   "])
def test_no_chk_is_nothing_to_check(chk: str | None) -> None:
    assert registered_checksum(chk, "md5") is None


@pytest.mark.parametrize(
    ("chk", "chk_alg", "reason"),
    [
        (MD5_OF_ABC, None, "names no chkAlg"),
        (MD5_OF_ABC, "", "names no chkAlg"),
        ("0" * 64, "sha2", "chkAlg 'sha2' is not one of md5, sha1, sha256"),
        (MD5_OF_ABC, "sha256", "chk is not a hex digest of 64 digits (sha256)"),
        (MD5_OF_ABC[:-1], "md5", "chk is not a hex digest of 32 digits (md5)"),
        ("g" * 32, "md5", "not a hex digest of 32 digits (md5)"),
        ("kAYwCHc9dGF2DkQcQnbTOA==", "md5", "not a hex digest of 32 digits (md5)"),  # base64
    ],
)
def test_a_chk_that_cannot_be_checked_says_why(chk: str, chk_alg: str | None, reason: str) -> None:
    outcome = registered_checksum(chk, chk_alg)
    assert isinstance(outcome, NotCheckable)
    assert reason in outcome.reason


def test_checkable_files_splits_and_skips_files_without_chk() -> None:
    checkable, not_checkable = checkable_files(
        [("a", MD5_OF_ABC, "md5"), ("b", None, "md5"), ("c", MD5_OF_ABC, None)]
    )
    assert checkable == {"a": RegisteredChecksum(algorithm="md5", value=MD5_OF_ABC)}
    assert list(not_checkable) == ["c"]


@pytest.mark.parametrize(
    ("count", "text"),
    [(1, "f0"), (5, "f0, f1, f2, f3, f4"), (8, "f0, f1, f2, f3, f4 and 3 more")],
)
def test_named_files_is_bounded(count: int, text: str) -> None:
    assert named_files([f"f{i}" for i in range(count)]) == text


def members(files: dict[str, bytes]) -> list[tuple[FileEntry, io.BytesIO]]:
    return [
        (FileEntry(path=path, size=len(data)), io.BytesIO(data)) for path, data in files.items()
    ]


def registered(files: dict[str, bytes], algorithm: str) -> dict[str, RegisteredChecksum]:
    return {
        path: RegisteredChecksum(
            algorithm=algorithm, value=hashlib.new(algorithm, data).hexdigest()
        )
        for path, data in files.items()
    }


@given(
    archive_algorithm=st.sampled_from(["md5", "sha256", "blake2b"]),
    registered_algorithm=st.sampled_from(["md5", "sha1", "sha256", "sha512"]),
    sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=5),
)
def test_data_as_registered_packs_the_same_tar_as_without_checks(
    tmp_path_factory: pytest.TempPathFactory,
    archive_algorithm: str,
    registered_algorithm: str,
    sizes: list[int],
) -> None:
    tmp = tmp_path_factory.mktemp("tars")
    files = {f"f{i}": content(i, size) for i, size in enumerate(sizes)}
    plain = write_tar(tmp / "plain.tar", members(files), archive_algorithm)
    checked = write_tar(
        tmp / "checked.tar",
        members(files),
        archive_algorithm,
        registered=registered(files, registered_algorithm),
    )
    assert (tmp / "checked.tar").read_bytes() == (tmp / "plain.tar").read_bytes()
    assert checked.model_dump(exclude={"path"}) == plain.model_dump(exclude={"path"})


@pytest.mark.parametrize(
    ("archive_algorithm", "registered_algorithm"), [("md5", "md5"), ("sha256", "md5")]
)
def test_data_differing_from_its_registered_checksum_fails_after_packing_every_member(
    tmp_path: Path, archive_algorithm: str, registered_algorithm: str
) -> None:
    files = {f"raw/f{i}.bin": content(i, 600 + i) for i in range(4)}
    checksums = registered(files, registered_algorithm)
    sources = members({**files, "raw/f1.bin": b"x" * 601, "raw/f3.bin": b"y" * 603})

    with pytest.raises(SourceChecksumError) as info:
        write_tar(tmp_path / "block.tar", sources, archive_algorithm, registered=checksums)

    assert info.value.paths == ["raw/f1.bin", "raw/f3.bin"]
    assert str(info.value) == (
        "2 of 4 files differ from the checksum registered in SciCat (origdatablock chk): "
        f"raw/f1.bin ({registered_algorithm}), raw/f3.bin ({registered_algorithm})"
    )
    assert all(source.tell() == entry.size for entry, source in sources)  # every member read
    assert list(tmp_path.iterdir()) == []  # no tar, no partial tar


def test_the_error_names_the_first_five_files_and_counts_the_rest(tmp_path: Path) -> None:
    files = {f"f{i}": content(i, 100) for i in range(9)}
    checksums = registered(files, "md5")
    corrupt = {path: bytes(100) for path in list(files)[1:]}

    with pytest.raises(SourceChecksumError) as info:
        write_tar(tmp_path / "b.tar", members({**files, **corrupt}), "md5", registered=checksums)

    assert str(info.value).endswith(": f1 (md5), f2 (md5), f3 (md5), f4 (md5), f5 (md5) and 3 more")
    assert str(info.value).startswith("8 of 9 files differ")


def test_only_members_with_a_registered_checksum_are_checked(tmp_path: Path) -> None:
    files = {"a": b"abc", "b": b"other"}
    checksums = {
        "a": RegisteredChecksum(algorithm="md5", value=MD5_OF_ABC),
        "not-packed": RegisteredChecksum(algorithm="md5", value="0" * 32),
    }
    packed = write_tar(tmp_path / "block.tar", members(files), "sha256", registered=checksums)
    assert [member.path for member in packed.members] == ["a", "b"]
