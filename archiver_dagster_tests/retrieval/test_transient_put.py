"""S3 refusing uploads to the retrieval bucket for a while costs no retrieval and no pool slot.

The fault is real: a proxy on 127.0.0.1 answers the next PUTs with `503 SlowDown`; botocore's
own retries are off (`max_attempts=0`: botocore counts retries after the first request), so
each refusal reaches the op. The op is retried by Dagster after a backoff, and while it waits
its `lts_read` slot is not held: the instance's claims are sampled during the run and compared
with the step's retry events.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from dagster import DagsterEventType, DagsterInstance
from dagster_aws.s3 import S3Resource

from archiver_dagster.storage.retrieval_bucket import RetrievalBucketResource
from archiver_dagster_tests.helpers import archive, lts_folder, retrieve
from archiver_dagster_tests.retrieval.test_retrieve import bucket_keys, unfinished_uploads
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from devstack.soak.s3_proxy import FaultyProxy
from devstack.stack import RETRIEVAL_BUCKET

POOL = "lts_read"


@pytest.fixture
def instance(sqlite_instance: DagsterInstance) -> DagsterInstance:
    """Pools are the instance's concurrency slots, which only a persistent instance keeps."""
    return sqlite_instance


def bucket_through(proxy: FaultyProxy, budget_s: int) -> RetrievalBucketResource:
    s3 = S3Resource(
        endpoint_url=proxy.url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
        max_attempts=0,
    )
    return RetrievalBucketResource(
        s3=s3, bucket=RETRIEVAL_BUCKET, transient_fault_budget_s=budget_s
    )


@dataclass
class Sample:
    at: float
    claimed_steps: set[str]


@pytest.fixture
def pool_samples(instance: DagsterInstance) -> Iterator[list[Sample]]:
    """Who holds `lts_read` slots, sampled every few ms until the test ends."""
    instance.event_log_storage.set_concurrency_slots(POOL, 1)
    samples: list[Sample] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            at = time.time()  # the claims read are at least this recent
            info = instance.event_log_storage.get_concurrency_info(POOL)
            samples.append(Sample(at, {slot.step_key for slot in info.claimed_slots}))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    yield samples
    stop.set()
    sampler.join()


def retry_waits(instance: DagsterInstance, run_id: str) -> list[tuple[str, float, float]]:
    """(step, up for retry at, restarted at) of every retry of the run."""
    records = instance.all_logs(run_id)
    waits = []
    for index, record in enumerate(records):
        if record.dagster_event_type != DagsterEventType.STEP_UP_FOR_RETRY:
            continue
        step = record.step_key
        restarted = next(
            later.timestamp
            for later in records[index:]
            if later.step_key == step
            and later.dagster_event_type == DagsterEventType.STEP_RESTARTED
        )
        waits.append((str(step), record.timestamp, restarted))
    return waits


def test_puts_refused_for_a_while_are_retried_without_holding_the_pool_slot(
    stack, instance, seed_dataset, unique_pid, s3_proxy, pool_samples
):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    s3_proxy.refuse_next(2, method="PUT")

    result = retrieve(instance, pid, {"retrieval_bucket": bucket_through(s3_proxy, 60)})

    assert result.success
    assert s3_proxy.counts().refused_503 == 2
    assert len(bucket_keys(stack, pid)) == len(list(lts_folder(stack, pid).iterdir()))
    assert unfinished_uploads(stack) == []
    waits = retry_waits(instance, result.run_id)
    assert len(waits) == 2
    assert all(step.startswith("retrieved_datablocks.retrieve_datablock") for step, *_ in waits)
    # While a step waits for its retry, its slot is free; while it runs, it holds one. Dagster
    # frees the slot right after storing the retry event: a margin covers that write.
    margin = 0.1
    during_waits = [
        (step, sample)
        for step, up_at, restarted_at in waits
        for sample in pool_samples
        if up_at + margin < sample.at < restarted_at - margin
    ]
    assert during_waits, "no sample fell inside a retry wait"
    held = [(step, sample) for step, sample in during_waits if step in sample.claimed_steps]
    assert not held, (held, waits)
    assert any(
        step.startswith("retrieved_datablocks.retrieve_datablock")
        for sample in pool_samples
        for step in sample.claimed_steps
    )
    [materialization] = result.asset_materializations_for_node("retrieved_datablocks")
    assert materialization.metadata["datablock_retries"].value == 2
    logged = [
        record.user_message
        for record in instance.all_logs(result.run_id)
        if "its pool slot is free meanwhile" in record.user_message
    ]
    assert len(logged) == 2 and "SlowDown" in logged[0]
