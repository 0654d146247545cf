import io
import re
import tarfile
from pathlib import Path

import pytest

from archiver_dagster.packing.verify import (
    ExpectedMember,
    UnsafeMemberError,
    digest_tar,
    verify_tar,
)

_PAYLOAD = b"x" * 4096


def _tar_with(unsafe: tarfile.TarInfo) -> tuple[bytes, int]:
    """Returns a tar of one good file then `unsafe`, and where `unsafe`'s data would start."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        good = tarfile.TarInfo("good.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        if unsafe.isreg():
            unsafe.size = len(_PAYLOAD)
            tar.addfile(unsafe, io.BytesIO(_PAYLOAD))
        else:
            tar.addfile(unsafe)
    data = buf.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        last = tar.getmembers()[-1]
    assert last.name == unsafe.name
    return data, last.offset_data


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


_UNSAFE = {
    "symlink": (_member("link", tarfile.SYMTYPE, "/etc/passwd"), "symlink to '/etc/passwd'"),
    "relative symlink": (_member("up", tarfile.SYMTYPE, "../.."), "symlink"),
    "hardlink": (_member("hard", tarfile.LNKTYPE, "good.txt"), "hardlink to 'good.txt'"),
    "absolute": (_member("/tmp/evil.txt"), "absolute"),
    "parent": (_member("../escaped.txt"), "'..' segment"),
    "nested parent": (_member("a/../../escaped.txt"), "'..' segment"),
    "parent directory": (_member("../escaped-dir", tarfile.DIRTYPE), "'..' segment"),
    "control character": (_member("bad\nname.txt"), "control character U+000A"),
    "backslash": (_member("..\\escaped.txt"), "backslash"),
    "character device": (_member("tty", tarfile.CHRTYPE), "character device"),
    "block device": (_member("sda", tarfile.BLKTYPE), "block device"),
    "fifo": (_member("pipe", tarfile.FIFOTYPE), "fifo"),
}


@pytest.mark.parametrize("case", _UNSAFE.keys())
@pytest.mark.parametrize("check", ["digest", "verify"])
def test_unsafe_member_rejected_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, check: str
) -> None:
    unsafe, reason = _UNSAFE[case]
    data, _ = _tar_with(unsafe)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    stream = io.BytesIO(data)
    with pytest.raises(UnsafeMemberError, match=re.escape(f"member {unsafe.name!r}")) as info:
        if check == "digest":
            digest_tar(stream, "sha256")
        else:
            expected = [ExpectedMember(path="good.txt", size=2, checksum="")]
            verify_tar(stream, "", expected, "sha256")
    assert reason in str(info.value)
    # The stream is read ahead in whole chunks (into memory only), so its position says nothing;
    # what matters is that nothing was extracted anywhere.
    assert list(workdir.iterdir()) == []
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "escaped-dir").exists()
