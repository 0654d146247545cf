"""No-scratch mode (decision 72): tars packed straight into their LTS reservation, end to end."""

import shutil
import tarfile
from collections.abc import Generator, Iterable
from pathlib import Path

import pytest
from dagster import DagsterEventType, OpDefinition
from dagster_aws.s3 import S3Resource

from archiver_dagster.archival.assets import archival_assets_for
from archiver_dagster.definitions import build_definitions, build_resources
from archiver_dagster.settings import packs_on_scratch
from archiver_dagster.storage import lts as lts_module
from archiver_dagster.storage.landing_zone import LandingZoneResource, RawObject
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.transient import TransientFaults
from archiver_dagster_tests.archival.test_archive_failures import assert_cleaned_up
from archiver_dagster_tests.helpers import (
    archival_materializations,
    archive,
    archive_status,
    landing_zone_keys,
    lts,
    lts_folder,
    run_cleanup_sensor,
    scratch_folder,
)
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from devstack.seed import sample_files
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

ASSETS = ("datablocks", "lts_datablocks", "verified_datablocks")
NO_SCRATCH_OPS = {
    "origdatablocks",
    "plan_datablock_packing",
    "reserve_lts_space",
    "pack_onto_lts",
    "settle_lts_copy",
    "verify_lts_copy",
    "register_datablocks",
    "collect_lts_copies",
    "finalize_archival",
}


@pytest.fixture
def no_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """ARCHIVER_SCRATCH_FOLDER set, and empty, as a deployment without scratch has it."""
    monkeypatch.setenv("ARCHIVER_SCRATCH_FOLDER", "")


def files_below(root: Path) -> dict[Path, int]:
    """Every file and folder below `root` with its modification time."""
    return {path: path.stat().st_mtime_ns for path in root.rglob("*")}


def step_ops(result) -> set[str]:
    """The ops whose steps ran in the run."""
    return {
        event.step_key.split("[", 1)[0].rsplit(".", 1)[-1]
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_START
    }


def test_the_chain_is_chosen_when_definitions_load(no_scratch):
    assert not packs_on_scratch()
    job = build_definitions("in_process", packs_on_scratch()).resolve_job_def("archive_dataset_job")
    pools = {node.name: node.pool for node in job.all_node_defs if isinstance(node, OpDefinition)}
    assert pools["reserve_lts_space"] == "lts_free_space"
    assert pools["pack_onto_lts"] == "lts_write"
    assert pools["verify_lts_copy"] == "lts_read"
    assert "pack_datablock" not in pools and "copy_to_lts" not in pools


def test_both_chains_materialize_the_same_assets_with_the_same_lineage():
    scratch, direct = archival_assets_for(True)[1], archival_assets_for(False)[1]
    assert scratch.node_def.name == direct.node_def.name
    assert scratch.keys == direct.keys
    assert {key: scratch.asset_deps[key] for key in scratch.keys} == {
        key: direct.asset_deps[key] for key in direct.keys
    }


def test_archives_without_scratch_one_write_per_byte(
    stack: LocalStack, instance, seed_dataset, unique_pid, monkeypatch
):
    pid, reference = unique_pid(), unique_pid()
    files = sample_files(6, 1_500_000)  # three datablocks of the stack's 4 MB
    seed_dataset(pid, files)
    seed_dataset(reference, files)
    on_scratch = archive(instance, reference)  # for comparison
    assert on_scratch.success
    monkeypatch.setenv("ARCHIVER_SCRATCH_FOLDER", "")
    scratch_before = files_below(stack.scratch_root)

    result = archive(instance, pid, on_scratch=False)

    assert result.success
    assert step_ops(result) == NO_SCRATCH_OPS
    assert files_below(stack.scratch_root) == scratch_before  # nothing written to scratch
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    blocks = sorted(stack.scicat.datablocks(pid), key=lambda block: block["archiveId"])
    assert len(blocks) == 3
    members = {}
    for block in blocks:
        tar_path = stack.lts_root / block["archiveId"]
        assert block["packedSize"] == tar_path.stat().st_size
        with tarfile.open(tar_path) as tar:
            members |= {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert members == {file.path: file.content() for file in files}
    assert sorted(path.name for path in lts_folder(stack, pid).iterdir()) == [
        block["archiveId"].rsplit("/", 1)[1] for block in blocks
    ]  # no .partial left
    assert landing_zone_keys(stack, pid) == []
    # The same SciCat records as packing on scratch, apart from the names.
    assert [strip_ids(block) for block in blocks] == [
        strip_ids(block)
        for block in sorted(stack.scicat.datablocks(reference), key=lambda b: b["archiveId"])
    ]
    # The same metadata on the assets, and the read-back checked what packing recorded.
    for asset in ASSETS:
        [materialization] = archival_materializations(result, asset)
        [recorded] = archival_materializations(on_scratch, asset)
        assert set(materialization.metadata) == set(recorded.metadata), asset
    [packed] = archival_materializations(result, "datablocks")
    [verified] = archival_materializations(result, "verified_datablocks")
    assert packed.metadata["checksums"].value == verified.metadata["checksums_verified"].value


def strip_ids(block: dict) -> dict:
    """A registered datablock without what names its dataset or the time it was stored."""
    kept = {key: block[key] for key in ("size", "packedSize", "chkAlg", "version")}
    return kept | {"files": [(f["path"], f["size"], f["chk"]) for f in block["dataFileList"]]}


class VanishingLandingZone(LandingZoneResource):
    """A landing zone from which the datablock's last file is deleted as packing starts."""

    def open_raw_files(
        self, pid: str, files: Iterable[tuple[str, int]], faults: TransientFaults | None = None
    ) -> Generator[RawObject, None, None]:
        files = list(files)
        key = self.layout(pid).raw_files_key + files[-1][0]
        self.s3.get_client().delete_object(Bucket=self.bucket, Key=key)
        return super().open_raw_files(pid, files, faults)


def vanishing(zone: LandingZoneResource) -> VanishingLandingZone:
    """The same landing zone, with a file vanishing as packing starts."""
    return VanishingLandingZone(
        **{name: getattr(zone, name) for name in LandingZoneResource.model_fields}
    )


@pytest.mark.parametrize("on_scratch", [True, False], ids=["scratch", "no-scratch"])
def test_an_object_vanishing_while_packing_fails_alike_and_leaves_no_partial(
    stack: LocalStack, instance, seed_dataset, unique_pid, on_scratch, monkeypatch
):
    if not on_scratch:
        monkeypatch.setenv("ARCHIVER_SCRATCH_FOLDER", "")
    pid = unique_pid()
    files = seed_dataset(pid, sample_files(4, 600_000))  # one datablock
    overrides = {"landing_zone": vanishing(build_resources()["landing_zone"])}

    result = archive(instance, pid, overrides, on_scratch=on_scratch)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert ("pack_datablock" if on_scratch else "pack_onto_lts") in failure.step_key
    vanished = max(file.path for file in files)  # the last one packed
    assert vanished in failure.step_failure_data.error.message
    assert not list(stack.lts_root.rglob("*.partial"))  # before any cleanup
    run_cleanup_sensor(instance)
    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    returned = stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]
    assert returned["errorKind"] == "system"
    # With the landing zone incomplete the cleanup keeps the dataset's LTS folder (decision 6):
    # packing left nothing in it.
    assert stack.scicat.datablocks(pid) == []
    assert not [path for path in lts_folder(stack, pid).parent.rglob("*") if path.is_file()]
    assert not scratch_folder(stack, pid).exists()
    assert len(landing_zone_keys(stack, pid)) == 3  # the landing zone is never touched


def test_a_datablock_the_lts_can_never_hold_fails_before_packing(
    stack: LocalStack, instance, seed_dataset, unique_pid, no_scratch
):
    pid = unique_pid()
    seed_dataset(pid)
    usage = shutil.disk_usage(stack.lts_root)
    margin = f"{(usage.used + usage.free - 4096) / usage.total * 100:.9f}"
    overrides = {"lts": lts(stack, free_space_percentage=margin, free_space_timeout_s=3600)}

    result = archive(instance, pid, overrides, on_scratch=False)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "reserve_lts_space" in failure.step_key
    assert "pack_onto_lts" not in step_ops(result)
    assert not list(lts_folder(stack, pid).glob("*.partial"))
    run_cleanup_sensor(instance)
    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert_cleaned_up(stack, pid, landing_zone_objects=6)


class FillingLTS(LTSResource):
    """An LTS that cannot allocate ahead, filled by someone else right after the reservation."""

    def reserve_room(self, archive_id: str, size: int) -> tuple[float, bool]:
        answer = super().reserve_room(archive_id, size)
        filler = self.root / "filler"
        with filler.open("wb") as handle:
            free = shutil.disk_usage(self.root).free
            handle.write(bytes(max(free - 64 * 1024, 0)))
        return answer


def test_an_lts_full_while_packing_fails_as_a_system_error_and_leaves_no_partial(
    stack: LocalStack, instance, seed_dataset, unique_pid, no_scratch, tmpfs, monkeypatch
):
    monkeypatch.setattr(lts_module, "preallocate", lambda fd, length: False)
    pid = unique_pid()
    seed_dataset(pid, sample_files(4, 600_000))
    overrides = {"lts": lts(stack, FillingLTS, storage_root=str(tmpfs))}

    result = archive(instance, pid, overrides, on_scratch=False)

    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "pack_onto_lts" in failure.step_key
    assert "No space left" in failure.step_failure_data.error.message
    assert not list(tmpfs.rglob("*.partial"))
    assert len(landing_zone_keys(stack, pid)) == 4


def test_a_transient_s3_fault_while_packing_retries_the_pack_from_its_start(
    stack: LocalStack, instance, seed_dataset, unique_pid, no_scratch, s3_proxy
):
    armed: list[int] = []

    class RefusingLandingZone(LandingZoneResource):
        """Behind a proxy that refuses the first GET of the first two packs with a 503."""

        def open_raw_files(
            self, pid: str, files: Iterable[tuple[str, int]], faults: TransientFaults | None = None
        ) -> Generator[RawObject, None, None]:
            if len(armed) < 2:
                armed.append(1)
                s3_proxy.refuse_next(1, method="GET")
            return super().open_raw_files(pid, files, faults)

    pid = unique_pid()
    files = seed_dataset(pid, sample_files(4, 600_000))
    s3 = S3Resource(
        endpoint_url=s3_proxy.url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
        max_attempts=0,  # each refusal reaches the op
    )
    zone = RefusingLandingZone(
        s3=s3,
        bucket=LANDING_ZONE_BUCKET,
        dataset_layout=DatasetLayoutResource(),
        download_concurrency=1,
    )

    result = archive(instance, pid, {"landing_zone": zone}, on_scratch=False)

    assert result.success
    retried = [
        event.step_key
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_UP_FOR_RETRY
    ]
    assert len(retried) == 2 and all("pack_onto_lts" in key for key in retried)
    assert s3_proxy.counts().refused_503 == 2
    reserves = [
        event
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_START and "reserve_lts_space" in event.step_key
    ]
    assert len(reserves) == 1  # the retries pack into the same reservation
    [block] = stack.scicat.datablocks(pid)
    with tarfile.open(stack.lts_root / block["archiveId"]) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert members == {file.path: file.content() for file in files}
    assert sorted(path.name for path in lts_folder(stack, pid).iterdir()) == [
        block["archiveId"].rsplit("/", 1)[1]
    ]
    assert landing_zone_keys(stack, pid) == []


def test_an_archived_dataset_is_reverified_without_packing_or_writing(
    stack: LocalStack, instance, seed_dataset, unique_pid, no_scratch
):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid, on_scratch=False).success
    copies = files_below(lts_folder(stack, pid))

    result = archive(instance, pid, on_scratch=False)

    assert result.success
    assert files_below(lts_folder(stack, pid)) == copies  # nothing reserved, packed or written
    [materialization] = archival_materializations(result, "datablocks")
    assert materialization.metadata["already_archived"].value is True
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
