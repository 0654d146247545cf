"""At most N tars of a dataset on scratch: a pack claims a slot before it writes its tar.

A slot is a tar in the dataset's scratch folder, complete (`<name>`) or being written
(`<name>.partial`, which `write_tar` writes and renames). The claim creates the partial file
under an exclusive lock on the folder, so packs in separate step processes (the multiprocess
executor) never both take the last slot. The slot is freed when the tar is deleted: after its
LTS copy is durable, or by `write_tar` when packing fails.
"""

import fcntl
from pathlib import Path

_LOCK = ".scratch-slots.lock"
_PARTIAL = ".partial"


def _tar_name(path: Path) -> str | None:
    """The tar a scratch file stands for (itself, or the tar a partial becomes), else None."""
    name = path.name.removesuffix(_PARTIAL)
    return name if name.endswith(".tar") else None


def tars_on_scratch(folder: Path) -> set[str]:
    """Names of the tars in `folder`, complete or being written."""
    if not folder.is_dir():
        return set()
    return {name for path in folder.iterdir() if (name := _tar_name(path)) is not None}


def claim_scratch_slot(folder: Path, name: str, limit: int) -> bool:
    """Creates `<name>.partial` if fewer than `limit` other tars are in `folder`; says if it did.

    A tar that already holds its slot (an earlier attempt of the same pack) claims it again.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / _LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if len(tars_on_scratch(folder) - {name}) >= limit:
            return False
        (folder / f"{name}{_PARTIAL}").touch()
        return True
