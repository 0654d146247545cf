import tarfile

from dagster import DagsterInstance, materialize

from archiver_dagster.archival.assets import archival_assets
from archiver_dagster.definitions import build_resources
from archiver_dagster.devstack.stack import LANDING_ZONE_BUCKET, LocalStack
from archiver_dagster.partitions import datasets_partitions


def archive(instance: DagsterInstance, pid: str):
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return materialize(
        archival_assets,
        partition_key=pid,
        instance=instance,
        resources=build_resources(),
        raise_on_error=False,
    )


def test_archives_dataset_with_slash_in_pid(stack: LocalStack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    files = seed_dataset(pid)

    result = archive(instance, pid)

    assert result.success
    dataset = stack.scicat.dataset(pid)
    assert dataset["datasetlifecycle"]["archiveStatusMessage"] == "datasetOnArchiveDisk"
    blocks = stack.scicat.datablocks(pid)
    assert blocks
    members = {}
    for block in blocks:
        tar_path = stack.lts_root / block["archiveId"]
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                members[member.name] = tar.extractfile(member).read()
    assert members == {file.path: file.content() for file in files}
    listing = stack.s3.client().list_objects_v2(
        Bucket=LANDING_ZONE_BUCKET, Prefix=f"openem-network/datasets/{pid}/"
    )
    assert listing["KeyCount"] == 0
