"""PIDs nested in one another: no dataset can take, or delete, another dataset's objects."""

from archiver_dagster.errors import ERROR_KIND_KEY
from archiver_dagster_tests.helpers import (
    PREFIX,
    archive,
    archive_status,
    lts_folder,
    run_cleanup_sensor,
)
from devstack.seed import SampleFile
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack


def object_keys(stack: LocalStack, prefix: str) -> list[str]:
    listing = stack.s3.client().list_objects_v2(Bucket=LANDING_ZONE_BUCKET, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_pid_nested_below_another_datasets_raw_files_is_refused(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    outer = unique_pid()
    inner = f"{outer}/raw_files/y"
    # Dataset `outer` has a file `y/raw_files/f`; dataset `inner` registers a file `f` of the
    # same size. Both name the landing-zone key `{prefix}/datasets/{outer}/raw_files/y/raw_files/f`.
    shared = SampleFile(path="y/raw_files/f", size=2000, seed=1)
    own = SampleFile(path="f", size=2000, seed=2)
    seed_dataset(outer, [shared])
    seed_dataset(inner, [own], upload=[])
    shared_key = f"{PREFIX}/datasets/{outer}/raw_files/y/raw_files/f"
    assert object_keys(stack, f"{PREFIX}/datasets/{outer}/") == [shared_key]

    result = archive(instance, inner)

    # Refused as a user error before anything is read, registered, copied or deleted.
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert failure.step_key == "origdatablocks"
    error = failure.step_failure_data
    assert error.user_failure_data.metadata[ERROR_KIND_KEY].value == "user"
    assert "'raw_files' segment" in error.error.message
    run_cleanup_sensor(instance)
    assert stack.scicat.datablocks(inner) == []
    assert not lts_folder(stack, inner).exists()
    assert object_keys(stack, f"{PREFIX}/datasets/{outer}/") == [shared_key]

    # The object stays the other dataset's, which archives it as its own.
    assert archive(instance, outer).success
    assert archive_status(stack, outer) == "datasetOnArchiveDisk"
    [block] = stack.scicat.datablocks(outer)
    assert [entry["path"] for entry in block["dataFileList"]] == ["y/raw_files/f"]
    assert block["dataFileList"][0]["chk"] == shared.md5()
