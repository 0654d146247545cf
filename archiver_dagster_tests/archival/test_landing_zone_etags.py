"""The manifests record, per member, the ETag and size of the landing-zone object packed."""

from dagster import AssetKey

from archiver_dagster.archival.manifests import LTSDatablocksManifest
from archiver_dagster.storage.landing_zone import PREFETCH_MAX_BYTES
from archiver_dagster_tests.helpers import PREFIX, archive, upload_multipart
from devstack.seed import SampleFile, sample_files
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack


def test_each_member_records_the_etag_of_the_object_it_was_packed_from(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    small = sample_files(4, 1500)
    big = SampleFile("raw/big.bin", PREFETCH_MAX_BYTES + (2 << 20), seed=7)
    seed_dataset(pid, [*small, big], upload=small)
    client = stack.s3.client()
    key = f"{PREFIX}/datasets/{pid}/raw_files/"
    upload_multipart(client, key + big.path, big.content())
    # What the server holds before archiving (the objects are released once archived).
    held = {}
    for file in [*small, big]:
        answer = client.head_object(Bucket=LANDING_ZONE_BUCKET, Key=key + file.path)
        held[file.path] = (answer["ETag"], answer["ContentLength"])

    result = archive(instance, pid)

    assert result.success
    # The value `finalize_archival` receives: every member with its object's ETag and size.
    manifest = result.asset_value(AssetKey("lts_datablocks"))
    assert isinstance(manifest, LTSDatablocksManifest)
    recorded = {
        member.path: (member.landing_zone.etag, member.landing_zone.size)
        for copy in manifest.copies
        for member in copy.datablock.members
        if member.landing_zone is not None
    }
    assert recorded == held
    assert recorded[big.path][0].endswith('-2"')
