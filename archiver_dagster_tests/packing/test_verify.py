import hashlib
import io
import tarfile
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver_dagster.packing.checksums import SUPPORTED_ALGORITHMS
from archiver_dagster.packing.tar_stream import PackedTar
from archiver_dagster.packing.verify import (
    ChecksumMismatchError,
    CorruptTarError,
    ExpectedMember,
    UnsafeMemberError,
    digest_tar,
    verify_tar,
)
from archiver_dagster_tests.packing.tar_samples import ShortReads, sample_files, write_sample

_TMP = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Sample(NamedTuple):
    packed: PackedTar
    data: bytes

    def __repr__(self) -> str:  # keeps hypothesis failure reports readable
        return f"Sample({self.packed.path.name}, {len(self.data)} bytes)"


@pytest.fixture
def sample(tmp_path: Path) -> Sample:
    return Sample(*write_sample(tmp_path / "block.tar"))


def _flip(data: bytes, offset: int, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[offset] ^= 1 << bit
    return bytes(flipped)


def _infos(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def _problems(data: bytes, packed: PackedTar) -> list[str]:
    with pytest.raises(ChecksumMismatchError) as info:
        verify_tar(io.BytesIO(data), packed.checksum, packed.expected_members(), packed.algorithm)
    assert str(info.value).startswith(f"tar verification failed ({len(info.value.problems)} ")
    return info.value.problems


def test_correct_tar_passes(sample: Sample) -> None:
    packed, data = sample
    digest = verify_tar(io.BytesIO(data), packed.checksum, packed.expected_members(), "sha256")
    assert digest.checksum == packed.checksum == hashlib.sha256(data).hexdigest()
    assert digest.packed_size == len(data)
    assert digest.members == packed.expected_members()


def test_expected_checksums_compare_case_insensitively(sample: Sample) -> None:
    packed, data = sample
    upper = [m.model_copy(update={"checksum": m.checksum.upper()}) for m in packed.members]
    expected = [ExpectedMember(path=m.path, size=m.size, checksum=m.checksum) for m in upper]
    digest = verify_tar(io.BytesIO(data), packed.checksum.upper(), expected, "sha256")
    assert digest.checksum == packed.checksum


@_TMP
@given(choice=st.data())
def test_any_bit_flip_in_member_data_is_caught(sample: Sample, choice: st.DataObject) -> None:
    packed, data = sample
    info = choice.draw(st.sampled_from([i for i in _infos(data) if i.size]))
    offset = choice.draw(st.integers(info.offset_data, info.offset_data + info.size - 1))
    member = next(m for m in packed.members if m.path == info.name)
    problems = _problems(_flip(data, offset, choice.draw(st.integers(0, 7))), packed)
    assert len(problems) == 2
    assert problems[0].startswith("tar checksum ")
    assert problems[0].endswith(f" != expected {packed.checksum}")
    assert problems[1].startswith(f"member {member.path}: checksum ")
    assert problems[1].endswith(f" != expected {member.checksum}")


@_TMP
@given(choice=st.data())
def test_bit_flip_in_member_header_is_caught(sample: Sample, choice: st.DataObject) -> None:
    packed, data = sample
    info = choice.draw(st.sampled_from(_infos(data)))
    offset = choice.draw(st.integers(info.offset_data - 512, info.offset_data - 1))
    problems = _problems(_flip(data, offset, choice.draw(st.integers(0, 7))), packed)
    assert any(p.startswith("tar checksum ") for p in problems)
    if 148 <= offset % 512 < 156:  # some flips in the checksum field parse the same (see below)
        return
    assert len(problems) >= 2  # tarfile rejects the header, so members go missing too
    if offset < 512:
        assert problems[0].startswith("unreadable tar after 0 members")


@pytest.mark.parametrize(
    ("offset", "bit"),
    [
        (155, 0),  # the byte after the checksum field's NUL is never parsed
        (154, 5),  # that NUL turned into a space: the field still parses
        (148, 4),  # a leading "0" of the checksum turned into a space: same value
    ],
)
def test_header_flips_tarfile_ignores_are_caught_by_tar_checksum(
    sample: Sample, offset: int, bit: int
) -> None:
    packed, data = sample
    flipped = _flip(data, offset, bit)
    assert [i.name for i in _infos(flipped)] == [m.path for m in packed.members]
    problems = _problems(flipped, packed)
    assert len(problems) == 1
    assert problems[0].startswith("tar checksum ")


@_TMP
@given(offset=st.integers(0, 10 * 1024), bit=st.integers(0, 7))
def test_no_single_bit_flip_anywhere_goes_unnoticed(sample: Sample, offset: int, bit: int) -> None:
    packed, data = sample
    flipped = _flip(data, offset % len(data), bit)
    with pytest.raises((ChecksumMismatchError, UnsafeMemberError)):
        verify_tar(io.BytesIO(flipped), packed.checksum, packed.expected_members(), "sha256")


def test_all_problems_are_listed(sample: Sample) -> None:
    packed, data = sample
    first, second, *rest = packed.expected_members()
    expected = [
        first.model_copy(update={"size": first.size + 1}),
        second.model_copy(update={"checksum": "00"}),
        ExpectedMember(path="not/there.bin", size=1, checksum="ab"),
        *rest[1:],  # rest[0] is then unexpected
    ]
    with pytest.raises(ChecksumMismatchError) as info:
        verify_tar(io.BytesIO(data), "ff", expected, "sha256")
    assert info.value.problems == [
        f"tar checksum {packed.checksum} != expected ff",
        f"member {first.path}: size {first.size} != expected {first.size + 1}",
        f"member {second.path}: checksum {second.checksum} != expected 00",
        "missing member not/there.bin",
        f"unexpected member {rest[0].path}",
    ]
    assert "and" not in str(info.value).rsplit(";", 1)[1]  # five problems: all shown


def test_message_shows_five_problems_and_counts_the_rest() -> None:
    error = ChecksumMismatchError([f"problem {index}" for index in range(8)])
    assert str(error) == (
        "tar verification failed (8 problems): "
        "problem 0; problem 1; problem 2; problem 3; problem 4; and 3 more"
    )
    assert len(error.problems) == 8


def test_duplicate_members_reported(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for payload in (b"one", b"two"):
            info = tarfile.TarInfo("same.txt")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    data = buf.getvalue()
    expected = [ExpectedMember(path="same.txt", size=3, checksum=hashlib.md5(b"two").hexdigest())]
    with pytest.raises(ChecksumMismatchError) as error:
        verify_tar(io.BytesIO(data), hashlib.md5(data).hexdigest(), expected, "md5")
    assert error.value.problems == ["duplicate member same.txt"]


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
def test_digests_equal_hashlib_for_every_algorithm(tmp_path: Path, algorithm: str) -> None:
    packed, data = write_sample(tmp_path / "block.tar", algorithm)
    digest = digest_tar(io.BytesIO(data), algorithm, bufsize=1000)
    assert digest.checksum == hashlib.new(algorithm, data).hexdigest() == packed.checksum
    assert [(m.path, m.size, m.checksum) for m in digest.members] == [
        (e.path, len(content), hashlib.new(algorithm, content).hexdigest())
        for e, content in sample_files()
    ]


@pytest.mark.parametrize("chunk", [1, 100, 513])
def test_digest_of_non_seekable_short_read_stream(sample: Sample, chunk: int) -> None:
    packed, data = sample
    digest = digest_tar(ShortReads(data, chunk), "sha256")  # type: ignore[arg-type]
    assert digest.checksum == packed.checksum
    assert digest.members == packed.expected_members()


def test_digest_covers_bytes_after_end_of_archive(sample: Sample) -> None:
    _, data = sample
    padded = data + bytes(10240) + b"trailing"
    digest = digest_tar(io.BytesIO(padded), "sha1")
    assert digest.packed_size == len(padded)
    assert digest.checksum == hashlib.sha1(padded).hexdigest()


def test_foreign_tar_with_directories_and_dot_prefix() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in ("./", "./sub/", "./sub/deeper/"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        info = tarfile.TarInfo("./sub/deeper/" + "n" * 150)  # GNU long name
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    digest = digest_tar(io.BytesIO(buf.getvalue()), "sha256")
    assert digest.members == [
        ExpectedMember(
            path="sub/deeper/" + "n" * 150, size=5, checksum=hashlib.sha256(b"hello").hexdigest()
        )
    ]


def test_truncated_tar(sample: Sample) -> None:
    packed, data = sample
    cut = _infos(data)[2].offset_data + 100  # inside the third member's data
    with pytest.raises(CorruptTarError, match="unreadable tar after 2 members"):
        digest_tar(io.BytesIO(data[:cut]), "sha256")
    problems = _problems(data[:cut], packed)
    assert problems[0].startswith("unreadable tar after 2 members")
    assert problems[1].startswith("tar checksum ")
    assert problems[2:] == [f"missing member {m.path}" for m in packed.members[2:]]


@pytest.mark.parametrize("data", [b"", b"not a tar at all" * 100, bytes(range(256)) * 40])
def test_not_a_tar(data: bytes) -> None:
    with pytest.raises(CorruptTarError, match="unreadable tar after 0 members"):
        digest_tar(io.BytesIO(data), "md5")


def test_unsupported_algorithm() -> None:
    with pytest.raises(ValueError, match="unsupported checksum algorithm 'sha3_512'"):
        digest_tar(io.BytesIO(b""), "sha3_512")


@pytest.mark.parametrize("bufsize", [0, -1])
def test_non_positive_bufsize_rejected(sample: Sample, bufsize: int) -> None:
    with pytest.raises(ValueError, match="bufsize must be positive"):
        digest_tar(io.BytesIO(sample.data), "sha256", bufsize=bufsize)
    with pytest.raises(ValueError, match="bufsize must be positive"):
        verify_tar(io.BytesIO(sample.data), "", [], "sha256", bufsize=bufsize)


def test_members_only_verification_when_the_tar_checksum_is_unknown():
    """With no recorded tar checksum, members are still checked one by one."""
    payload = b"x" * 1000
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("a/b.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    good = hashlib.md5(payload).hexdigest()
    expected = [ExpectedMember(path="a/b.bin", size=1000, checksum=good)]

    digest = verify_tar(io.BytesIO(buffer.getvalue()), None, expected, "md5")
    assert digest.members == expected

    wrong = [ExpectedMember(path="a/b.bin", size=1000, checksum="0" * 32)]
    with pytest.raises(ChecksumMismatchError, match=r"a/b\.bin"):
        verify_tar(io.BytesIO(buffer.getvalue()), None, wrong, "md5")


class FailingAfter(io.RawIOBase):
    """A source that serves `good` bytes, then fails like a device with a bad sector."""

    def __init__(self, data: bytes, good: int) -> None:
        super().__init__()
        self._data = io.BytesIO(data[:good])

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        count = self._data.readinto(b)
        if not count:
            raise OSError(5, "Input/output error")
        return count


@pytest.mark.parametrize("bufsize", [512, 4096, 1 << 20])
def test_read_error_of_the_source_reaches_the_caller(sample: Sample, bufsize: int) -> None:
    # The source is read ahead on another thread; its error must surface here, not hang.
    stream = FailingAfter(sample.data, len(sample.data) // 2)
    with pytest.raises(OSError, match="Input/output error"):
        digest_tar(stream, "sha256", bufsize=bufsize)  # type: ignore[arg-type]
