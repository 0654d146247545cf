"""Which files a dataset has: SciCat's origdatablocks checked against the landing zone."""

from collections.abc import Iterable, Mapping

from archiver_dagster.archival.manifests import SourceFile
from archiver_dagster.errors import MissingFilesError, bounded_list
from archiver_dagster.packing.paths import UnsafePathError, safe_relative_path
from archiver_dagster.scicat.models import OrigDatablock


def source_files(origdatablocks: Iterable[OrigDatablock]) -> list[SourceFile]:
    """Flattens origdatablocks into one validated file list (a user error if empty or unsafe)."""
    files: dict[str, SourceFile] = {}
    for block in origdatablocks:
        for entry in block.data_file_list:
            try:
                path = safe_relative_path(entry.path)
            except UnsafePathError as error:
                raise MissingFilesError(f"origdatablock {block.id}: {error}") from error
            if path in files:
                raise MissingFilesError(f"file {path!r} is registered twice in the origdatablocks")
            files[path] = SourceFile(
                path=path,
                size=entry.size,
                time=entry.time,
                uid=entry.uid,
                gid=entry.gid,
                perm=entry.perm,
                chk=entry.chk,
                chk_alg=block.chk_alg,
            )
    if not files:
        raise MissingFilesError("the dataset's origdatablocks list no files")
    return sorted(files.values(), key=lambda file: file.path)


def landing_zone_problems(files: Iterable[SourceFile], objects: Mapping[str, int]) -> list[str]:
    """Lists registered files that are missing from the landing zone or differ in size."""
    problems = []
    for file in files:
        size = objects.get(file.path)
        if size is None:
            problems.append(f"missing: {file.path}")
        elif size != file.size:
            problems.append(f"size differs: {file.path} is {size} bytes, SciCat says {file.size}")
    return problems


def check_landing_zone(files: list[SourceFile], objects: Mapping[str, int]) -> None:
    """Raises `MissingFilesError` (a user error) unless every file is there with its size."""
    problems = landing_zone_problems(files, objects)
    if problems:
        raise MissingFilesError(
            f"{len(problems)} of {len(files)} files not in the landing zone as registered: "
            f"{bounded_list(problems)}"
        )
