"""The whole archival graph for a dataset whose PID contains `/`, against the real stack."""

import hashlib
import os
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

from scicat_sdk_py.models import CreateDatasetDatablockDto, DataFile

from archiver_dagster.partitions import MAX_PID_LENGTH
from archiver_dagster_tests.helpers import (
    archive,
    archive_status,
    landing_zone_keys,
    lts_folder,
    scratch_folder,
)
from devstack.stack import LocalStack

NAME_MAX = os.pathconf("/", "PC_NAME_MAX")

# Fields the backend adds to what we sent (ownership is inherited from the dataset).
STORED_ONLY = {
    "_id",
    "datasetId",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "ownerGroup",
    "accessGroups",
    "instrumentGroup",
    "isPublished",
}


def test_archives_dataset_with_slash_in_pid(stack: LocalStack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    files = seed_dataset(pid)
    by_path = {file.path: file for file in files}
    registered = {f["path"]: f for f in stack.scicat.origdatablocks(pid)[0]["dataFileList"]}

    result = archive(instance, pid)

    assert result.success
    lifecycle = stack.scicat.dataset(pid)["datasetlifecycle"]
    assert lifecycle["archiveStatusMessage"] == "datasetOnArchiveDisk"
    assert (lifecycle["archivable"], lifecycle["retrievable"]) == (False, True)
    blocks = stack.scicat.datablocks(pid)
    assert blocks
    members = {}
    for index, block in enumerate(sorted(blocks, key=lambda b: b["archiveId"])):
        # Exactly the DTO the real backend accepts, with the values we promise.
        dto = {key: value for key, value in block.items() if key not in STORED_ONLY}
        CreateDatasetDatablockDto.model_validate(dto)
        assert set(dto) == {"archiveId", "size", "packedSize", "chkAlg", "version", "dataFileList"}
        name = f"{pid.replace('/', '-')}_{index}.tar"
        assert block["archiveId"] == f"openem-network/datasets/{pid}/datablocks/{name}"
        assert (block["chkAlg"], block["version"]) == ("md5", "1.0")
        tar_path = stack.lts_root / block["archiveId"]
        assert block["packedSize"] == tar_path.stat().st_size
        assert block["size"] == sum(entry["size"] for entry in block["dataFileList"])
        for entry in block["dataFileList"]:
            DataFile.model_validate(entry)
            source = by_path[entry["path"]]
            assert entry["size"] == source.size
            assert entry["chk"] == hashlib.md5(source.content()).hexdigest()
            for key in ("time", "uid", "gid", "perm"):
                assert entry[key] == registered[entry["path"]][key]
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                members[member.name] = tar.extractfile(member).read()
    assert members == {file.path: file.content() for file in files}
    assert landing_zone_keys(stack, pid) == []
    assert not scratch_folder(stack, pid).exists()
    assert sorted(p.name for p in lts_folder(stack, pid).iterdir()) == sorted(
        b["archiveId"].rsplit("/", 1)[1] for b in blocks
    )


def test_archives_pid_whose_percent_encoding_exceeds_a_file_name(
    stack: LocalStack, instance, seed_dataset
):
    unique = f"20.500.12345/{uuid.uuid4()}/"
    pid = unique + "é" * ((MAX_PID_LENGTH - len(unique)) // 2)
    assert len(pid.encode()) == MAX_PID_LENGTH  # the longest PID accepted
    assert len(quote(pid, safe="")) > NAME_MAX  # too long for a file name
    files = seed_dataset(pid)
    # Leftovers of an interrupted attempt: the run must find the same scratch folder again.
    scratch = scratch_folder(stack, pid)
    assert len(scratch.name.encode()) <= NAME_MAX
    assert scratch.name.startswith(quote(unique, safe=""))  # readable
    (scratch / "datablocks").mkdir(parents=True)
    (scratch / "datablocks" / "stale.tar.partial").write_bytes(b"interrupted")

    result = archive(instance, pid)

    assert result.success
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    blocks = stack.scicat.datablocks(pid)
    members = {}
    for block in blocks:
        assert block["archiveId"].startswith(f"openem-network/datasets/{pid}/datablocks/")
        with tarfile.open(stack.lts_root / block["archiveId"]) as tar:
            for member in tar.getmembers():
                members[member.name] = tar.extractfile(member).read()
    assert members == {file.path: file.content() for file in files}
    assert landing_zone_keys(stack, pid) == []
    assert not scratch.exists()
    # The manifests kept by the IO manager: one per asset, under a bounded, readable name.
    manifests = sorted((Path(instance.storage_directory()) / "manifests").rglob("*.json"))
    assert len(manifests) == 4
    assert {path.name for path in manifests} == {manifests[0].name}
    assert manifests[0].name.startswith(quote(unique, safe=""))
