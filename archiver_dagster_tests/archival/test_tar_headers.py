"""What the tars keep of SciCat's file attributes: no setuid/setgid/sticky bit, no root owner."""

import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from archiver_dagster_tests.helpers import archive, lts_folder
from devstack.seed import SampleFile
from devstack.stack import LocalStack

NOBODY = 65534

# SciCat's attributes (uid, gid, perm) and the header the tar must carry: (mode, uid, gid,
# uname, gname).
CASES = {
    "bin/setuid-root": (("0", "0", "-rwsr-sr-t"), (0o755, NOBODY, NOBODY, "", "")),
    "bin/named-root": (("root", "root", "04755"), (0o755, NOBODY, NOBODY, "", "")),
    "bin/leading-zeros": (("000", "00", "06750"), (0o750, NOBODY, NOBODY, "", "")),
    "data/capital-s": (("1234", "5678", "-rwSr-Sr-T"), (0o644, 1234, 5678, "", "")),
    "data/user.bin": (("1234", "5678", "-rw-r-----"), (0o640, 1234, 5678, "", "")),
    "data/named.bin": (("alice", "p-group", "0775"), (0o775, NOBODY, NOBODY, "alice", "p-group")),
    "data/no-owner.bin": ((None, None, None), (0o644, NOBODY, NOBODY, "", "")),
}


def sample(path: str) -> SampleFile:
    uid, gid, perm = CASES[path][0]
    return SampleFile(path, 100 + len(path), uid=uid, gid=gid, perm=perm)


def archived_tar(stack: LocalStack, instance, seed_dataset, pid: str) -> Path:
    seed_dataset(pid, [sample(path) for path in CASES])
    result = archive(instance, pid)
    assert result.success
    (tar_path,) = lts_folder(stack, pid).iterdir()
    return tar_path


def test_headers_carry_no_special_bits_and_no_root_owner(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    tar_path = archived_tar(stack, instance, seed_dataset, pid)

    with tarfile.open(tar_path) as tar:
        headers = {
            info.name: (info.mode, info.uid, info.gid, info.uname, info.gname)
            for info in tar.getmembers()
        }
    assert headers == {path: case[1] for path, case in CASES.items()}
    # SciCat keeps the attributes as the ingestor registered them: the datablocks repeat them.
    (block,) = stack.scicat.datablocks(pid)
    registered = {
        entry["path"]: (entry.get("uid"), entry.get("gid"), entry.get("perm"))
        for entry in block["dataFileList"]
    }
    assert registered == {path: case[0] for path, case in CASES.items()}


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tar") is None,
    reason="needs root and a tar command: only root's extraction restores owners and modes",
)
def test_extraction_by_root_creates_no_setuid_file_and_no_root_owned_file(
    stack: LocalStack, instance, seed_dataset, unique_pid, tmp_path: Path
):
    tar_path = archived_tar(stack, instance, seed_dataset, unique_pid())
    out = tmp_path / "extracted"
    out.mkdir()

    # As root, GNU tar restores owners (by name where the name exists here) and every mode bit.
    subprocess.run(["tar", "-xf", str(tar_path), "-C", str(out)], check=True)

    extracted = {
        str(path.relative_to(out)): path.lstat() for path in out.rglob("*") if path.is_file()
    }
    assert sorted(extracted) == sorted(CASES)
    for path, info in extracted.items():
        special = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
        assert info.st_mode & special == 0, path
        assert 0 not in (info.st_uid, info.st_gid), path
        assert stat.S_IMODE(info.st_mode) == CASES[path][1][0], path
