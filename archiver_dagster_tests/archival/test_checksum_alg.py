"""ARCHIVER_CHECKSUM_ALG selects the algorithm end to end and is recorded as chkAlg."""

import hashlib

import pytest

from archiver_dagster_tests.helpers import archive
from devstack.seed import sample_files


@pytest.mark.parametrize(("algorithm", "hex_length"), [("sha256", 64), ("blake2b", 128)])
def test_checksum_algorithm_is_used_for_members_and_recorded_in_scicat(
    stack, instance, seed_dataset, unique_pid, monkeypatch, algorithm, hex_length
):
    monkeypatch.setenv("ARCHIVER_CHECKSUM_ALG", algorithm)
    pid = unique_pid()
    files = seed_dataset(pid, sample_files(5, 3000))

    result = archive(instance, pid)

    assert result.success
    blocks = stack.scicat.datablocks(pid)
    assert blocks
    assert {block["chkAlg"] for block in blocks} == {algorithm}
    recorded = {item["path"]: item["chk"] for block in blocks for item in block["dataFileList"]}
    assert {len(chk) for chk in recorded.values()} == {hex_length}
    assert recorded == {f.path: hashlib.new(algorithm, f.content()).hexdigest() for f in files}
