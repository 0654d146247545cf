"""The LTS read-back comes from the media: a bit flipped on disk is caught after the copy."""

import io
import mmap
import os
from pathlib import Path

import pytest

from archiver_dagster.packing.checksums import TAR_CHECKSUM_ALGORITHM
from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.tar_stream import write_tar
from archiver_dagster.packing.verify import ChecksumMismatchError, verify_tar
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster_tests.packing.tar_samples import content
from devstack.bench.procfs import filesystem_type, read_io

PAGE = 4096


def on_real_disk(path: Path) -> bool:
    return filesystem_type(path) not in {"tmpfs", "ramfs", "overlay"}


needs_disk = pytest.mark.skipif(
    not on_real_disk(Path(os.environ.get("TMPDIR", "/tmp"))),
    reason="needs a disk-backed filesystem (O_DIRECT, block-layer accounting, write-back)",
)


def flip_bit_on_media(path: Path, offset: int) -> None:
    """Flips one bit with O_DIRECT reads and writes: the page-cache copy is never written."""
    fd = os.open(path, os.O_RDWR | os.O_DIRECT)
    try:
        block = mmap.mmap(-1, PAGE)  # page-aligned, as O_DIRECT requires
        start = offset - offset % PAGE
        assert os.preadv(fd, [block], start) == PAGE
        block[offset - start] ^= 0x01
        assert os.pwritev(fd, [block], start) == PAGE
        os.fsync(fd)
    finally:
        os.close(fd)


def stored_tar(tmp_path: Path) -> tuple[LTSResource, str, int, list, str]:
    entries = [FileEntry(path=f"raw/f{i}.bin", size=3 * PAGE + 100) for i in range(3)]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    members = [(e, content(i, e.size)) for i, e in enumerate(entries)]
    packed = write_tar(
        scratch / "block.tar", ((e, io.BytesIO(data)) for e, data in members), "sha256"
    )
    lts = LTSResource(
        storage_root=str(tmp_path / "lts"),
        dataset_layout=DatasetLayoutResource(),
        free_space_percentage="0",
    )
    archive_id = "openem-network/datasets/x/datablocks/block.tar"
    lts.store(packed.path, archive_id)
    return lts, archive_id, packed.packed_size, packed.expected_members(), packed.checksum


@needs_disk
def test_bit_flipped_on_media_after_store_is_caught_by_the_uncached_read_back(
    tmp_path: Path,
) -> None:
    lts, archive_id, size, expected, checksum = stored_tar(tmp_path)
    # Second member's data starts after: header(512) + data(3*4096+100 -> padded 12800) + header.
    flip_bit_on_media(lts.path_of(archive_id), 512 + 12800 + 512 + 10)

    with (
        lts.open_uncached(archive_id, size) as stream,
        pytest.raises(ChecksumMismatchError) as caught,
    ):
        verify_tar(stream, checksum, expected, "sha256", tar_algorithm=TAR_CHECKSUM_ALGORITHM)

    problems = " ".join(caught.value.problems)
    assert "tar checksum" in problems
    assert "member raw/f1.bin: checksum" in problems
    assert "raw/f0.bin" not in problems and "raw/f2.bin" not in problems


@needs_disk
def test_uncached_read_back_reads_every_byte_from_the_device(tmp_path: Path) -> None:
    lts, archive_id, size, expected, checksum = stored_tar(tmp_path)
    with open(lts.path_of(archive_id), "rb") as warm:  # noqa: PTH123 - pull it into the cache
        warm.read()

    before = read_io()["read_bytes"]
    with lts.open_uncached(archive_id, size) as stream:
        verify_tar(stream, checksum, expected, "sha256", tar_algorithm=TAR_CHECKSUM_ALGORITHM)
    from_device = read_io()["read_bytes"] - before

    assert from_device >= size  # a page-cache hit would read 0 bytes from the block layer
