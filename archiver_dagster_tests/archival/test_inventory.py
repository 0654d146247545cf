"""The dataset's file list from SciCat's origdatablocks, checked against the landing zone."""

import pytest

from archiver_dagster.archival.inventory import (
    check_landing_zone,
    landing_zone_problems,
    source_files,
)
from archiver_dagster.archival.manifests import SourceFile
from archiver_dagster.errors import ErrorKind, MissingFilesError, UserError
from archiver_dagster.scicat.models import OrigDatablock

TIME = "2024-01-01T00:00:00Z"


def block(block_id: str, *files: dict) -> OrigDatablock:
    return OrigDatablock.model_validate(
        {"_id": block_id, "datasetId": "20.500.12345/x", "dataFileList": list(files)}
    )


def data_file(path: str, size: int = 10, **extra: str) -> dict:
    return {"path": path, "size": size, "time": TIME, **extra}


def test_flattens_several_origdatablocks_sorted_by_path() -> None:
    files = source_files(
        [
            block("b1", data_file("raw/z.bin", 3), data_file("raw/a.bin", 1)),
            block("b2"),  # an empty block among others is fine
            block(
                "b3",
                data_file("./meta/m.json", 2, uid="1000", gid="p-group", perm="-rw-r-----"),
            ),
        ]
    )
    assert files == [
        SourceFile(
            path="meta/m.json", size=2, time=TIME, uid="1000", gid="p-group", perm="-rw-r-----"
        ),
        SourceFile(path="raw/a.bin", size=1, time=TIME),
        SourceFile(path="raw/z.bin", size=3, time=TIME),
    ]


def test_each_file_carries_its_chk_and_its_blocks_chk_alg() -> None:
    md5_block = OrigDatablock.model_validate(
        {"_id": "b1", "chkAlg": "md5", "dataFileList": [data_file("a", chk="0" * 32)]}
    )
    no_alg = block("b2", data_file("b", chk="1" * 32), data_file("c"))
    files = {file.path: (file.chk, file.chk_alg) for file in source_files([md5_block, no_alg])}
    assert files == {"a": ("0" * 32, "md5"), "b": ("1" * 32, None), "c": (None, None)}


def test_accepts_a_generator_of_blocks() -> None:
    files = source_files(block(f"b{i}", data_file(f"f{i}")) for i in range(3))
    assert [file.path for file in files] == ["f0", "f1", "f2"]


@pytest.mark.parametrize(
    ("first", "second"),
    [("raw/a.bin", "raw/a.bin"), ("raw/a.bin", "./raw/a.bin")],
)
def test_duplicate_path_across_blocks_is_a_user_error(first: str, second: str) -> None:
    blocks = [block("b1", data_file(first)), block("b2", data_file(second))]
    with pytest.raises(MissingFilesError) as info:
        source_files(blocks)
    assert str(info.value) == "file 'raw/a.bin' is registered twice in the origdatablocks"
    assert isinstance(info.value, UserError)
    assert info.value.kind is ErrorKind.USER


def test_duplicate_path_in_one_block_is_a_user_error() -> None:
    with pytest.raises(MissingFilesError, match="registered twice"):
        source_files([block("b1", data_file("x"), data_file("x", 99))])


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../etc/passwd", "'..' segment"),
        ("/abs/file", "absolute"),
        ("a//b", "empty segment"),
        ("a\\b", "backslash"),
        ("a\nb", "control character"),
        ("", "empty"),
    ],
)
def test_unsafe_path_is_a_user_error_naming_the_block(path: str, reason: str) -> None:
    blocks = [block("good", data_file("ok.bin")), block("bad-block", data_file(path))]
    with pytest.raises(MissingFilesError) as info:
        source_files(blocks)
    message = str(info.value)
    assert message.startswith("origdatablock bad-block: unsafe path ")
    assert reason in message
    assert isinstance(info.value, UserError)


@pytest.mark.parametrize("blocks", [[], [block("b1")], [block("b1"), block("b2")]])
def test_no_files_is_a_user_error(blocks: list[OrigDatablock]) -> None:
    with pytest.raises(MissingFilesError, match=r"^the dataset's origdatablocks list no files$"):
        source_files(blocks)


def files_of(*sizes: int) -> list[SourceFile]:
    return [SourceFile(path=f"f{i:02d}", size=size, time=TIME) for i, size in enumerate(sizes)]


def test_complete_landing_zone_passes() -> None:
    files = files_of(1, 2, 0)
    objects = {"f00": 1, "f01": 2, "f02": 0, "extra/not-registered.bin": 5}
    assert landing_zone_problems(files, objects) == []
    check_landing_zone(files, objects)  # raises nothing


def test_missing_and_size_problems_are_listed_in_file_order() -> None:
    files = files_of(1, 2, 3)
    problems = landing_zone_problems(files, {"f00": 1, "f01": 5})
    assert problems == [
        "size differs: f01 is 5 bytes, SciCat says 2",
        "missing: f02",
    ]


def test_check_landing_zone_message() -> None:
    files = files_of(1, 2, 3)
    with pytest.raises(MissingFilesError) as info:
        check_landing_zone(files, {"f00": 1, "f01": 5})
    assert str(info.value) == (
        "2 of 3 files not in the landing zone as registered: "
        "size differs: f01 is 5 bytes, SciCat says 2; missing: f02"
    )
    assert info.value.kind is ErrorKind.USER


def test_object_with_other_case_or_prefix_does_not_count() -> None:
    files = [SourceFile(path="raw/A.bin", size=1, time=TIME)]
    with pytest.raises(MissingFilesError, match=r"missing: raw/A\.bin"):
        check_landing_zone(files, {"raw/a.bin": 1, "A.bin": 1})


def test_check_landing_zone_shows_5_problems_then_a_count() -> None:
    files = files_of(*([7] * 25))
    with pytest.raises(MissingFilesError) as info:
        check_landing_zone(files, {})
    message = str(info.value)
    assert message.startswith("25 of 25 files not in the landing zone as registered: missing: f00;")
    assert message.endswith("missing: f04; and 20 more")
    assert message.count("missing: ") == 5
    assert "f20" not in message


def test_exactly_5_problems_have_no_more_suffix() -> None:
    files = files_of(*([7] * 5))
    with pytest.raises(MissingFilesError) as info:
        check_landing_zone(files, {})
    assert str(info.value).endswith("missing: f04")
    assert "more" not in str(info.value)
