"""Values of the retrieval ops and of the `retrieved_datablocks` asset."""

import hashlib

from pydantic import BaseModel, Field

from archiver_dagster.archive_record.members import MemberManifest


class RetrievalItem(BaseModel):
    """One registered datablock to bring back."""

    index: int
    archive_id: str
    packed_size: int
    algorithm: str
    tar_checksum: str | None
    tar_algorithm: str | None = Field(
        default=None, description="Of `tar_checksum`; None: `algorithm`, as in older records."
    )
    members: list[MemberManifest]

    def whole_tar_algorithm(self) -> str:
        """The algorithm `tar_checksum` is in."""
        return self.tar_algorithm or self.algorithm

    def fingerprint(self) -> str:
        """sha256 of what SciCat registered (archiveId, sizes, member checksums, tar checksum).

        Stored with the object: an object with the same fingerprint and size was verified
        against this very registration when it was uploaded.
        """
        tar_checksum = self.tar_checksum or ""
        if tar_checksum and self.whole_tar_algorithm() != self.algorithm:
            # Named only where it differs: fingerprints of older records stay what they were.
            tar_checksum = f"{self.whole_tar_algorithm()}:{tar_checksum}"
        lines = [self.archive_id, str(self.packed_size), self.algorithm, tar_checksum]
        lines += [f"{m.path}\t{m.size}\t{m.checksum}" for m in self.members]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class RetrievedDatablock(BaseModel):
    """A datablock in the retrieval bucket, verified against what was archived."""

    archive_id: str
    name: str
    size: int
    fingerprint: str
    copied_from_lts: bool
    seconds: float = 0.0
    retries: int = 0  # times the op was retried after a transient fault (or an unreadable copy)


class RetrievedDatablocksManifest(BaseModel):
    """Value of `retrieved_datablocks`: the dataset's datablocks, ready for download."""

    pid: str
    bucket: str
    datablocks: list[RetrievedDatablock]
