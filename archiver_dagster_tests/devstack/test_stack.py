"""The local stack: restarting its S3 server empties it and keeps its address and buckets."""

from pathlib import Path

from devstack.stack import LANDING_ZONE_BUCKET, RETRIEVAL_BUCKET, LocalStack


def test_restart_s3_empties_the_server_on_the_same_port(tmp_path: Path) -> None:
    with LocalStack(tmp_path) as stack:
        stack.s3.client().put_object(Bucket=LANDING_ZONE_BUCKET, Key="a", Body=b"a")
        url, process = stack.s3.url, stack.s3._process
        stack.restart_s3()
        client = stack.s3.client()
        assert stack.s3.url == url
        assert process is not None and process.poll() is not None  # the old one has ended
        names = {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}
        assert names == {LANDING_ZONE_BUCKET, RETRIEVAL_BUCKET}
        assert client.list_objects_v2(Bucket=LANDING_ZONE_BUCKET).get("KeyCount") == 0
