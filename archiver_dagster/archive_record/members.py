"""What a datablock holds, member by member: as packed, or as SciCat registered it."""

from pydantic import BaseModel, Field

from archiver_dagster.packing.verify import ExpectedMember
from archiver_dagster.scicat.models import Datablock
from archiver_dagster.storage.landing_zone import LandingZoneObject

# The checksum algorithm of a datablock registered without `chkAlg` (the reference's).
DEFAULT_ALGORITHM = "md5"


class MemberManifest(BaseModel):
    """One file inside a datablock, with its checksum and the landing-zone object it came from."""

    path: str
    size: int
    checksum: str
    landing_zone: LandingZoneObject | None = Field(
        default=None,
        description="ETag and size of the landing-zone object packed, as its GET answered; "
        "None for datablocks read from SciCat (already archived).",
    )

    def expected(self) -> ExpectedMember:
        """What the verifier should find for this file in the tar."""
        return ExpectedMember(path=self.path, size=self.size, checksum=self.checksum)


def registered_members(block: Datablock) -> list[MemberManifest]:
    """The members of a datablock as SciCat registered them (no landing-zone object)."""
    return [
        MemberManifest(path=file.path, size=file.size, checksum=file.chk or "")
        for file in block.data_file_list
    ]


def registered_algorithm(block: Datablock) -> str:
    """The checksum algorithm of a registered datablock: its `chkAlg`, md5 when it has none."""
    return block.chk_alg or DEFAULT_ALGORITHM
