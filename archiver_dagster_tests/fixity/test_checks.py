"""`lts_copies_intact` and `scicat_consistent` after archival, on demand, and on each fault."""

from dagster import AssetCheckKey

from archiver_dagster.archival.assets import VERIFIED_DATABLOCKS_KEY
from archiver_dagster.fixity.checks import LTS_COPIES_INTACT, SCICAT_CONSISTENT
from archiver_dagster.scicat.models import CreateDatablock, LifecycleUpdate
from archiver_dagster.scicat.resource import SciCatResource
from archiver_dagster_tests.fixity.helpers import archive_checked, evaluations, meta, run_checks
from archiver_dagster_tests.helpers import lts
from devstack.stack import SCICAT_PASSWORD, SCICAT_USER, LocalStack


def _archived(stack: LocalStack, instance, seed_dataset, unique_pid) -> str:
    pid = unique_pid()
    seed_dataset(pid)
    result = archive_checked(instance, pid, {"lts": lts(stack)})
    assert result.success
    return pid


def test_checks_pass_in_the_archival_run_without_reading_again(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)

    result = archive_checked(instance, pid, {"lts": lts(stack)})

    assert result.success
    found = evaluations(result)
    assert found[LTS_COPIES_INTACT].passed, found[LTS_COPIES_INTACT].description
    assert found[SCICAT_CONSISTENT].passed, found[SCICAT_CONSISTENT].description
    assert meta(found[LTS_COPIES_INTACT], "source") == (
        "this archival run's read-back from the LTS media"
    )
    blocks = stack.scicat.datablocks(pid)
    assert meta(found[LTS_COPIES_INTACT], "datablocks") == len(blocks)
    assert meta(found[LTS_COPIES_INTACT], "files") == sum(len(b["dataFileList"]) for b in blocks)
    # Visible per dataset, as the Checks tab shows it.
    key = AssetCheckKey(VERIFIED_DATABLOCKS_KEY, LTS_COPIES_INTACT)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    assert record.partition == pid


def test_checks_on_demand_read_the_copies_from_the_media(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = _archived(stack, instance, seed_dataset, unique_pid)

    result = run_checks(instance, pid, {"lts": lts(stack)})

    assert result.success
    found = evaluations(result)
    intact = found[LTS_COPIES_INTACT]
    assert intact.passed, intact.description
    assert meta(intact, "source") == "read back from the LTS media"
    blocks = stack.scicat.datablocks(pid)
    assert meta(intact, "bytes") == sum(block["packedSize"] for block in blocks)
    assert set(meta(intact, "tar_checksums")) == {block["archiveId"] for block in blocks}
    assert meta(intact, "checksum_algorithm") == "md5"
    assert meta(intact, "audit_age_days") >= 0
    assert found[SCICAT_CONSISTENT].passed
    key = AssetCheckKey(VERIFIED_DATABLOCKS_KEY, LTS_COPIES_INTACT)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    assert (latest.partition, latest.run_id) == (pid, result.run_id)  # the Checks tab's


def test_a_corrupt_copy_fails_naming_what_differs(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = _archived(stack, instance, seed_dataset, unique_pid)
    block = sorted(stack.scicat.datablocks(pid), key=lambda b: b["archiveId"])[0]
    path = stack.lts_root / block["archiveId"]
    data = bytearray(path.read_bytes())
    data[700] ^= 0x01  # inside the first member's data
    path.write_bytes(bytes(data))

    found = evaluations(run_checks(instance, pid, {"lts": lts(stack)}))

    intact = found[LTS_COPIES_INTACT]
    assert not intact.passed
    assert block["archiveId"] in intact.description
    assert "tar checksum" in intact.description
    assert "md5" in intact.description or "checksum" in intact.description
    assert meta(intact, "problems") == 1
    assert found[SCICAT_CONSISTENT].passed  # sizes and registrations still agree


def test_a_missing_copy_fails_both_checks(stack: LocalStack, instance, seed_dataset, unique_pid):
    pid = _archived(stack, instance, seed_dataset, unique_pid)
    block = stack.scicat.datablocks(pid)[0]
    (stack.lts_root / block["archiveId"]).unlink()

    found = evaluations(run_checks(instance, pid, {"lts": lts(stack)}))

    assert not found[LTS_COPIES_INTACT].passed
    assert block["archiveId"] in found[LTS_COPIES_INTACT].description
    assert "not readable" in found[LTS_COPIES_INTACT].description
    consistent = found[SCICAT_CONSISTENT]
    assert not consistent.passed
    assert f"{block['archiveId']}: not on the LTS" in consistent.description


def test_a_datablock_scicat_holds_otherwise_fails_scicat_consistent(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = _archived(stack, instance, seed_dataset, unique_pid)
    block = sorted(stack.scicat.datablocks(pid), key=lambda b: b["archiveId"])[0]
    stack.scicat.delete_datablock(pid, block["_id"])
    wrong = CreateDatablock.model_validate(
        {
            **{k: block[k] for k in ("archiveId", "size", "chkAlg", "version", "dataFileList")},
            "packedSize": block["packedSize"] + 512,
        }
    )
    scicat = SciCatResource(
        endpoint=stack.scicat.url, username=SCICAT_USER, password=SCICAT_PASSWORD
    )
    with scicat.tick_session() as client:
        client.create_datablock(pid, wrong)
        client.update_lifecycle(pid, LifecycleUpdate(archive_status_message="started"))

    found = evaluations(run_checks(instance, pid, {"lts": lts(stack)}))

    consistent = found[SCICAT_CONSISTENT]
    assert not consistent.passed
    assert (
        f"{block['archiveId']}: {block['packedSize']} bytes on the LTS, packedSize "
        f"{block['packedSize'] + 512}" in consistent.description
    )
    assert "archiveStatusMessage is 'started'" in consistent.description
    assert meta(consistent, "problems") == 2
    assert not found[LTS_COPIES_INTACT].passed  # the registered size is not the file's
