"""Retrieval reads only inside the dataset's own LTS folder, whatever SciCat or the LTS says."""

from collections.abc import Callable
from pathlib import Path

import pytest
from dagster import DagsterInstance

from archiver_dagster.scicat.models import CreateDatablock
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster_tests.helpers import (
    PREFIX,
    archive,
    lts_folder,
    retrieve,
    run_cleanup_sensor,
)
from devstack.stack import (
    RETRIEVAL_BUCKET,
    SCICAT_PASSWORD,
    SCICAT_USER,
    LocalStack,
)


def scicat(stack: LocalStack) -> SciCatResource:
    return SciCatResource(endpoint=stack.scicat.url, username=SCICAT_USER, password=SCICAT_PASSWORD)


def every_bucket_key(stack: LocalStack) -> list[str]:
    listing = stack.s3.client().list_objects_v2(Bucket=RETRIEVAL_BUCKET)
    return [item["Key"] for item in listing.get("Contents", [])]


def failed_retrieval(stack: LocalStack, pid: str) -> dict:
    lifecycle = stack.scicat.dataset(pid)["datasetlifecycle"]
    assert lifecycle["retrieveStatusMessage"] == "datasetRetrievalFailed"
    return lifecycle["retrieveReturnMessage"]


def through_dot_dot(stack: LocalStack, folder: str, archive_id: str) -> str:
    """Up from the dataset's folder to the LTS root, then down to `archive_id`."""
    return "/".join([folder, *[".."] * len(folder.split("/")), archive_id])


def absolute(stack: LocalStack, folder: str, archive_id: str) -> str:
    return str(stack.lts_root / archive_id)


@pytest.mark.parametrize("escape", [through_dot_dot, absolute])
def test_archive_id_naming_another_datasets_tar_fails_the_retrieval(
    stack: LocalStack,
    instance: DagsterInstance,
    seed_dataset,
    unique_pid,
    escape: Callable[[LocalStack, str, str], str],
) -> None:
    pid, other = unique_pid(), unique_pid()
    for each in (pid, other):
        seed_dataset(each)
        assert archive(instance, each).success
    with scicat(stack).tick_session() as client:
        [theirs] = client.get_datablocks(other)
        folder = DatasetLayout(PREFIX, pid).datablocks_folder
        escaping = escape(stack, folder, theirs.archive_id)
        # A registration of `pid` naming the other dataset's tar, with its members: read as it is
        # named, it would verify and hand the other dataset's data to whoever retrieves `pid`.
        client.create_datablock(
            pid,
            CreateDatablock(
                archiveId=escaping,
                size=theirs.size,
                packedSize=theirs.packed_size,
                chkAlg=theirs.chk_alg or "md5",
                version=theirs.version,
                dataFileList=theirs.data_file_list,
            ),
        )

    result = retrieve(instance, pid)
    assert not result.success
    run_cleanup_sensor(instance)

    message = failed_retrieval(stack, pid)
    assert message["errorKind"] == "system"
    assert repr(escaping) in message["message"]
    assert f"{folder}/" in message["message"]
    assert every_bucket_key(stack) == [k for k in every_bucket_key(stack) if pid not in k]
    assert not [key for key in every_bucket_key(stack) if other in key or ".." in key]


def test_datablock_that_is_a_symlink_out_of_the_folder_fails_the_retrieval(
    stack: LocalStack, instance: DagsterInstance, seed_dataset, unique_pid, tmp_path: Path
) -> None:
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    [tar] = list(lts_folder(stack, pid).iterdir())
    outside = tmp_path / "outside.tar"
    content = tar.read_bytes()
    tar.rename(outside)
    tar.symlink_to(outside)  # same bytes, but not in the dataset's folder

    result = retrieve(instance, pid)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    run_cleanup_sensor(instance)

    message = failed_retrieval(stack, pid)
    assert message["errorKind"] == "system"
    archive_id = DatasetLayout(PREFIX, pid).archive_id(0)
    assert repr(archive_id) in message["message"]
    assert str(outside) in message["message"]
    assert f"{stack.lts_root / DatasetLayout(PREFIX, pid).datablocks_folder}/" in message["message"]
    assert not [key for key in every_bucket_key(stack) if pid in key]
    assert outside.read_bytes() == content  # retrieval never touches the LTS
