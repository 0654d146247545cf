"""Retrieval in process: archive, then bring back, verify, download with plain HTTP."""

import hashlib
import io
import tarfile
from pathlib import PurePosixPath
from urllib.parse import quote

import requests
from dagster_aws.s3 import S3Resource

from archiver_dagster.definitions import build_resources
from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster_tests.helpers import archive, lts, lts_folder, retrieve, run_cleanup_sensor
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from devstack.seed import SciCatSeeder, sample_files
from devstack.stack import RETRIEVAL_BUCKET, LocalStack


def links(stack: LocalStack, result) -> dict[str, str]:
    """Links to the objects the run recorded, signed as the status sensor signs them."""
    [materialization] = result.asset_materializations_for_node("retrieved_datablocks")
    s3 = S3Resource(
        endpoint_url=stack.s3.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    bucket = RetrievalBucketResource(s3=s3, bucket=RETRIEVAL_BUCKET)
    keys = materialization.metadata["object_keys"].data
    return {PurePosixPath(key).name: bucket.presigned_url(key) for key in keys}


def lifecycle(stack, pid):
    return stack.scicat.dataset(pid)["datasetlifecycle"]


def bucket_keys(stack: LocalStack, pid: str) -> list[str]:
    listing = stack.s3.client().list_objects_v2(
        Bucket=RETRIEVAL_BUCKET, Prefix=f"openem-network/datasets/{pid}/"
    )
    return [item["Key"] for item in listing.get("Contents", [])]


def unfinished_uploads(stack: LocalStack) -> list[str]:
    answer = stack.s3.client().list_multipart_uploads(Bucket=RETRIEVAL_BUCKET)
    return [upload["Key"] for upload in answer.get("Uploads", [])]


def small_parts(stack) -> RetrievalBucketResource:
    """The bucket with 5 MiB parts (S3's minimum), so a 12 MB datablock goes multipart."""
    resource = build_resources()["retrieval_bucket"]
    return resource.model_copy(update={"part_size_bytes": 5 * 1024 * 1024})


def test_archive_then_retrieve_and_download_with_plain_http(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    files = seed_dataset(pid, sample_files(5, 3000))
    assert archive(instance, pid).success
    tars_before = {p.name: p.read_bytes() for p in lts_folder(stack, pid).iterdir()}

    result = retrieve(instance, pid)

    assert result.success
    assert lifecycle(stack, pid)["retrieveStatusMessage"] == "datasetRetrieved"
    assert lifecycle(stack, pid)["retrievable"] is True
    downloaded = {}
    for name, url in links(stack, result).items():
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, response.text
        assert response.content == tars_before[name]
        with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
            for member in tar.getmembers():
                downloaded[member.name] = tar.extractfile(member).read()
    assert downloaded == {file.path: file.content() for file in files}
    # Retrieval never modifies the archive.
    assert {p.name: p.read_bytes() for p in lts_folder(stack, pid).iterdir()} == tars_before


def test_second_retrieval_copies_nothing_and_renews_expiry(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    first = retrieve(instance, pid)
    [key] = bucket_keys(stack, pid)
    s3 = stack.s3.client()
    first_modified = s3.head_object(Bucket=RETRIEVAL_BUCKET, Key=key)["LastModified"]

    second = retrieve(instance, pid)

    assert first.success and second.success
    [metadata] = [
        m.metadata for m in second.asset_materializations_for_node("retrieved_datablocks")
    ]
    assert metadata["copied_from_lts"].value == 0
    assert metadata["expiry_renewed"].value == 1
    head = s3.head_object(Bucket=RETRIEVAL_BUCKET, Key=key)
    assert head["LastModified"] >= first_modified
    assert "renewed-at" in head["Metadata"]


def test_corrupt_datablock_on_lts_fails_and_leaves_nothing_in_the_bucket(
    stack, instance, seed_dataset, unique_pid, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_TARGET_SIZE_GB", "1")  # one 12 MB datablock: 3 parts of 5 MiB
    pid = unique_pid()
    seed_dataset(pid, sample_files(4, 3_000_000))
    assert archive(instance, pid).success
    [tar] = list(lts_folder(stack, pid).iterdir())
    data = bytearray(tar.read_bytes())
    data[-4096 - 700] ^= 0x04  # inside the last member, after two parts were sent
    tar.write_bytes(bytes(data))
    corrupt_digest = hashlib.sha256(data).hexdigest()
    overrides = {"retrieval_bucket": small_parts(stack)}

    result = retrieve(instance, pid, overrides)
    assert not result.success
    run_cleanup_sensor(instance, overrides)

    assert lifecycle(stack, pid)["retrieveStatusMessage"] == "datasetRetrievalFailed"
    assert lifecycle(stack, pid)["retrieveReturnMessage"]["errorKind"] == "system"
    assert bucket_keys(stack, pid) == []
    assert unfinished_uploads(stack) == []
    assert hashlib.sha256(tar.read_bytes()).hexdigest() == corrupt_digest  # LTS untouched


def test_datablock_missing_from_lts_fails_after_retries(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    for tar in lts_folder(stack, pid).iterdir():
        tar.unlink()

    # One retry, at once; nothing waits for the missing file to appear.
    quick = lts(stack, read_retries=1, read_retry_delay_s=0, file_timeout_s=0)
    result = retrieve(instance, pid, {"lts": quick})
    assert not result.success
    restarts = [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert len(restarts) == 1  # one retry, then the system error
    run_cleanup_sensor(instance)

    assert lifecycle(stack, pid)["retrieveStatusMessage"] == "datasetRetrievalFailed"
    assert "not readable" in lifecycle(stack, pid)["retrieveReturnMessage"]["message"]
    assert bucket_keys(stack, pid) == []


def test_dataset_without_datablocks_is_a_user_error(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    seed_dataset(pid)  # registered and uploaded, never archived

    result = retrieve(instance, pid)
    assert not result.success
    run_cleanup_sensor(instance)

    assert lifecycle(stack, pid)["retrieveStatusMessage"] == "datasetRetrievalFailed"
    message = lifecycle(stack, pid)["retrieveReturnMessage"]
    assert message["errorKind"] == "user"
    assert "never archived" in message["message"]


def test_dataset_archived_before_the_segment_rule_is_still_retrieved(
    stack, instance, seed_dataset, unique_pid
):
    # A PID with a `datablocks` segment is no longer archived, but the reference archived such
    # datasets: their tars sit on the LTS in the reference's layout and must come back.
    pid = f"{unique_pid()}/datablocks/old"
    files = seed_dataset(pid, sample_files(3, 2000), upload=[])
    archive_id = f"openem-network/datasets/{pid}/datablocks/{pid.replace('/', '-')}_0.tar"
    tar_path = stack.lts_root / archive_id
    tar_path.parent.mkdir(parents=True)
    with tarfile.open(tar_path, "w") as tar:
        for file in files:
            info = tarfile.TarInfo(file.path)
            info.size = file.size
            tar.addfile(info, io.BytesIO(file.content()))
    seeder = SciCatSeeder(stack.scicat.url, "archiver", "archiver-password")
    seeder.post(
        f"/datasets/{quote(pid, safe='')}/datablocks",
        {
            "archiveId": archive_id,
            "size": sum(file.size for file in files),
            "packedSize": tar_path.stat().st_size,
            "chkAlg": "md5",
            "version": "1.0",
            "dataFileList": [
                {"path": f.path, "size": f.size, "time": "2025-01-01T00:00:00Z", "chk": f.md5()}
                for f in files
            ],
        },
    )

    result = retrieve(instance, pid)

    assert result.success
    [url] = links(stack, result).values()
    response = requests.get(url, timeout=10)
    assert response.content == tar_path.read_bytes()
    assert lifecycle(stack, pid)["retrieveStatusMessage"] == "datasetRetrieved"
