import hashlib
import io
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver_dagster.packing.checksums import (
    SUPPORTED_ALGORITHMS,
    TAR_ALGORITHMS,
    TAR_CHECKSUM_ALGORITHM,
    new_hasher,
)
from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.tar_stream import (
    SourceSizeError,
    packed_tar_size,
    tar_member_header_overhead,
    write_tar,
)
from archiver_dagster.packing.verify import READ_BUFSIZE, verify_tar
from archiver_dagster.storage.direct_read import DirectFileReader
from archiver_dagster_tests.packing.tar_samples import (
    ShortReads,
    content,
    reference_tar,
    sample_files,
    write_sample,
)

_BOUNDARY_SIZES = [0, 1, 511, 512, 513, 1023, 1024, 1025]
_segment = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
    min_size=1,
    max_size=70,
).filter(lambda s: s not in (".", ".."))
_name = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40).filter(
    lambda s: s != "root"
)
_entry = st.builds(
    FileEntry,
    path=st.lists(_segment, min_size=1, max_size=3).map("/".join),
    size=st.one_of(st.sampled_from(_BOUNDARY_SIZES), st.integers(0, 3000)),
    mtime=st.one_of(
        st.integers(0, 2**34).map(float),
        st.floats(-1e9, 1e10, allow_nan=False, allow_infinity=False),
    ),
    mode=st.integers(0, 0o777),
    uid=st.integers(1, 2**22),
    gid=st.integers(1, 2**22),
    uname=_name,
    gname=_name,
)


@settings(deadline=None, max_examples=60)
@given(
    entries=st.lists(_entry, max_size=6, unique_by=lambda e: e.path),
    seed=st.integers(0, 2**32),
    algorithm=st.sampled_from(SUPPORTED_ALGORITHMS),
    tar_algorithm=st.sampled_from(TAR_ALGORITHMS),
    bufsize=st.sampled_from([1, 511, 4096, 1 << 20]),
    chunk=st.sampled_from([7, 512, 1 << 20]),
    read_bufsize=st.sampled_from([512, 1000, 4096, 1 << 20, READ_BUFSIZE]),
)
def test_matches_reference_tarfile_byte_for_byte(
    entries: list[FileEntry],
    seed: int,
    algorithm: str,
    tar_algorithm: str,
    bufsize: int,
    chunk: int,
    read_bufsize: int,
) -> None:
    files = [(e, content(seed + i, e.size)) for i, e in enumerate(entries)]
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "block.tar"
        members = ((e, ShortReads(data, chunk)) for e, data in files)
        packed = write_tar(
            dest,
            members,  # type: ignore[arg-type]
            algorithm,
            bufsize=bufsize,
            tar_algorithm=tar_algorithm,
        )
        written = dest.read_bytes()
        # Read back as the LTS read-back does (O_DIRECT where the filesystem allows it), in
        # chunks that do and do not fall on block and member boundaries.
        with DirectFileReader(dest) as reader:
            expected = packed.expected_members()
            stream = cast(BinaryIO, reader)
            from_disk = verify_tar(
                stream, packed.checksum, expected, algorithm, read_bufsize, tar_algorithm
            )
    assert written == reference_tar(files)
    assert packed.packed_size == len(written) == packed_tar_size(entries)
    whole = new_hasher(tar_algorithm)
    whole.update(written)
    assert packed.checksum == whole.hexdigest()
    assert packed.tar_algorithm == tar_algorithm
    digest = verify_tar(
        io.BytesIO(written),
        packed.checksum,
        packed.expected_members(),
        algorithm,
        tar_algorithm=tar_algorithm,
    )
    assert (digest.checksum, digest.packed_size) == (packed.checksum, packed.packed_size)
    assert from_disk == digest
    assert packed.unpacked_size == sum(e.size for e in entries)
    assert packed.algorithm == algorithm
    assert [m.path for m in packed.members] == [e.path for e in entries]
    for member, (entry, data) in zip(packed.members, files, strict=True):
        assert member.checksum == hashlib.new(algorithm, data).hexdigest()
        assert member.model_dump(exclude={"checksum"}) == entry.model_dump()
    with tarfile.open(fileobj=io.BytesIO(written), mode="r:") as tar:
        infos = tar.getmembers()
        assert [i.name for i in infos] == [e.path for e in entries]
        for info, (entry, data) in zip(infos, files, strict=True):
            extracted = tar.extractfile(info)
            assert extracted is not None
            assert extracted.read() == data
            assert info.isreg()
            assert (info.size, info.mode, info.uid, info.gid) == (
                entry.size,
                entry.mode,
                entry.uid,
                entry.gid,
            )
            assert (info.uname, info.gname, info.mtime) == (entry.uname, entry.gname, entry.mtime)


def test_extracts_nested_unicode_tree(tmp_path: Path) -> None:
    packed, _ = write_sample(tmp_path / "block.tar")
    out = tmp_path / "out"
    with tarfile.open(tmp_path / "block.tar") as tar:
        tar.extractall(out, filter="data")
    for entry, data in sample_files():
        extracted = out / entry.path
        assert extracted.read_bytes() == data
        assert extracted.stat().st_mtime == entry.mtime
    assert (out / "données" / "μ-scope" / "ファイル.bin").is_file()
    assert len(packed.members) == len(sample_files())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["block.tar", "out"]


def test_expected_members_mirror_packed_members(tmp_path: Path) -> None:
    packed, _ = write_sample(tmp_path / "block.tar")
    expected = packed.expected_members()
    assert [(m.path, m.size, m.checksum) for m in expected] == [
        (m.path, m.size, m.checksum) for m in packed.members
    ]


def test_header_overhead_counts_pax_headers_and_padding() -> None:
    short = FileEntry(path="a", size=1)
    long_name = FileEntry(path="x" * 200, size=512)
    fractional = FileEntry(path="a", size=512, mtime=1.5)
    assert tar_member_header_overhead(short) == 512 + 511
    assert tar_member_header_overhead(long_name) == 3 * 512  # PAX header block + its data
    assert tar_member_header_overhead(fractional) == 3 * 512
    assert tar_member_header_overhead(FileEntry(path="huge", size=8**11)) == 3 * 512  # > 8 GiB
    assert packed_tar_size([]) == tarfile.RECORDSIZE


@pytest.mark.parametrize(("actual", "message"), [(99, "ended after 99 of 100"), (101, "longer")])
def test_source_size_mismatch_leaves_no_file(tmp_path: Path, actual: int, message: str) -> None:
    dest = tmp_path / "block.tar"
    members = [
        (FileEntry(path="ok.bin", size=10), io.BytesIO(bytes(10))),
        (FileEntry(path="dir/bad.bin", size=100), io.BytesIO(bytes(actual))),
    ]
    with pytest.raises(SourceSizeError, match=f"'dir/bad.bin'.*{message}"):
        write_tar(dest, members, "md5")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_previous_tar(tmp_path: Path) -> None:
    dest = tmp_path / "block.tar"
    dest.write_bytes(b"previous")

    def members() -> Iterator[tuple[FileEntry, BinaryIO]]:
        yield FileEntry(path="a", size=3), io.BytesIO(b"abc")
        raise OSError("landing zone went away")

    with pytest.raises(OSError, match="landing zone went away"):
        write_tar(dest, members(), "sha1")
    assert dest.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["block.tar"]


def test_duplicate_path_rejected(tmp_path: Path) -> None:
    members = [(FileEntry(path="a", size=1), io.BytesIO(b"1"))] * 2
    with pytest.raises(ValueError, match="'a' given twice"):
        write_tar(tmp_path / "block.tar", members, "sha256")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_algorithm_touches_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported checksum algorithm 'crc'"):
        write_tar(tmp_path / "block.tar", [], "crc")
    assert list(tmp_path.iterdir()) == []


def test_empty_tar_is_one_record_of_zeros(tmp_path: Path) -> None:
    packed = write_tar(tmp_path / "empty.tar", [], "sha256")
    assert (tmp_path / "empty.tar").read_bytes() == bytes(tarfile.RECORDSIZE)
    assert (packed.packed_size, packed.unpacked_size, packed.members) == (tarfile.RECORDSIZE, 0, [])
    # The whole tar is hashed in XXH3-128 unless told otherwise, whatever the members' algorithm.
    assert packed.tar_algorithm == TAR_CHECKSUM_ALGORITHM == "xxh3_128"
    assert packed.checksum == xxhash.xxh3_128(bytes(tarfile.RECORDSIZE)).hexdigest()


def test_non_positive_bufsize_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bufsize must be positive"):
        write_tar(tmp_path / "block.tar", [], "md5", bufsize=0)
    assert list(tmp_path.iterdir()) == []


class FailingFile(io.RawIOBase):
    """A writable file whose disk fills up after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
        if self.written + len(b) > self.limit:
            raise OSError(28, "No space left on device")
        self.written += len(b)
        return len(b)


def test_write_error_on_the_sink_thread_reaches_the_caller_and_removes_the_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = FailingFile(3000)
    real_open = Path.open

    def open_failing(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        return failing if self.name.endswith(".partial") else real_open(self, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", open_failing)
    entries = [FileEntry(path=f"f{i}", size=4096) for i in range(50)]
    members = ((e, io.BytesIO(content(i, e.size))) for i, e in enumerate(entries))
    with pytest.raises(OSError, match="No space left"):
        write_tar(tmp_path / "block.tar", members, "md5", bufsize=1024)
    assert not list(tmp_path.iterdir())
