"""Releasing a dataset's landing zone: allowed only when the world, at that moment, agrees.

The manifests a step receives may come from an earlier run (a re-execution from failure reuses
them) whose copies have since been cleaned up. So the step that deletes landing-zone objects
re-establishes its preconditions from the LTS and SciCat themselves, never from stored values:
every verified copy is on the LTS with its verified size, and SciCat lists exactly those
datablocks with those sizes. Otherwise nothing is deleted.
"""

from collections.abc import Sequence

from archiver_dagster.archival.manifests import LTSCopy, MemberManifest
from archiver_dagster.errors import ArchiverSystemError, bounded_list
from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.storage.landing_zone import LandingZoneObject
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.lts import LTSResource


class ReleaseRefusedError(ArchiverSystemError):
    """The LTS or SciCat does not hold what was verified: the landing zone is kept."""


def lts_problems(copies: Sequence[LTSCopy], lts: LTSResource) -> list[str]:
    """What is missing or of another size on the LTS, compared with the verified copies."""
    problems = []
    for copy in copies:
        block = copy.datablock
        path = lts.path_of(block.archive_id)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{block.archive_id} is missing on the LTS")
            continue
        if size != block.packed_size:
            problems.append(
                f"{block.archive_id} is {size} bytes on the LTS, {block.packed_size} were verified"
            )
    return problems


def registration_problems(
    copies: Sequence[LTSCopy], client: SciCatClient, layout: DatasetLayout
) -> list[str]:
    """How SciCat's datablocks of the dataset differ from the verified copies."""
    registered = {
        block.archive_id: block
        for block in client.get_datablocks(layout.pid)
        if layout.owns_archive_id(block.archive_id)
    }
    verified = {copy.datablock.archive_id: copy.datablock for copy in copies}
    if set(registered) != set(verified):
        return [
            f"SciCat lists datablocks {bounded_list(sorted(registered))}, "
            f"the verified copies are {bounded_list(sorted(verified))}"
        ]
    return [
        f"SciCat registers {archive_id} with packedSize {block.packed_size}, "
        f"{verified[archive_id].packed_size} bytes were verified"
        for archive_id, block in sorted(registered.items())
        if block.packed_size != verified[archive_id].packed_size
        or block.size != verified[archive_id].size
    ]


def confirm_release(
    copies: Sequence[LTSCopy], client: SciCatClient, lts: LTSResource, layout: DatasetLayout
) -> None:
    """Raises `ReleaseRefusedError` unless the LTS and SciCat hold exactly the verified copies."""
    problems = lts_problems(copies, lts) + registration_problems(copies, client, layout)
    if problems:
        raise ReleaseRefusedError(
            f"{layout.pid}: the landing zone is kept: {bounded_list(problems)}"
        )


def releasable(
    members: Sequence[MemberManifest], current: dict[str, LandingZoneObject]
) -> tuple[list[str], list[str]]:
    """The files whose landing-zone object is still the one packed, and why others are kept.

    An object is released only if its ETag and size now are those its GET had when it was
    packed: an object replaced after packing holds data nobody archived. Without a recorded
    ETag nothing proves the object unchanged, so it is kept too.
    """
    release: list[str] = []
    kept: list[str] = []
    for member in members:
        now = current.get(member.path)
        packed = member.landing_zone
        if now is None:
            continue  # already gone: nothing to release
        if packed is None or packed.etag is None:
            kept.append(f"{member.path}: no ETag was recorded when it was packed")
        elif (now.etag, now.size) != (packed.etag, packed.size):
            kept.append(
                f"{member.path}: changed after packing (ETag {now.etag}, {now.size} bytes; "
                f"packed {packed.etag}, {packed.size} bytes)"
            )
        else:
            release.append(member.path)
    return release, kept
