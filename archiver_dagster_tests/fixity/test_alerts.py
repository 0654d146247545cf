"""Alerts to a webhook: what is posted, what never is, and a webhook that fails."""

import logging
from collections.abc import Iterator

import pytest
from dagster import DagsterInstance, build_sensor_context

from archiver_dagster.fixity.alert_sensor import ALERTED_TAG, archiver_alert_sensor
from archiver_dagster.fixity.alerts import AlertResource
from archiver_dagster.settings import ConfigurationError, parse_setting
from archiver_dagster.tags import CLEANED_UP_TAG, JOB_ID_TAG, JOB_REPORTED_TAG, JOB_TYPE_TAG
from archiver_dagster_tests.fixity.helpers import archive_checked, evaluations, run_checks
from archiver_dagster_tests.fixity.receiver import TOKEN_PATH, WebhookReceiver
from archiver_dagster_tests.helpers import archive, lts
from devstack.seed import sample_files
from devstack.stack import LocalStack

LOG = logging.getLogger("archiver-test-alerts")
FROM_THE_START = '{"updated_after": 0.0, "check_storage_id": 0}'  # a cursor that sees everything


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_an_alert_is_slack_json_without_links_or_secrets(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SCICAT_PASSWORD", "pw-9f3-archiver")
    text = (
        "dataset 20.500.1/x failed: see https://s3.example.org/retrieval/a.tar?"
        "X-Amz-Signature=abc123 (login pw-9f3-archiver refused)"
    )

    assert AlertResource(webhook_url=receiver.url).post(text, LOG)

    assert receiver.content_types == ["application/json"]
    [body] = receiver.bodies
    assert set(body) == {"text"}
    assert body["text"] == (
        "dataset 20.500.1/x failed: see <URL removed> (login <secret removed> refused)"
    )


def test_no_webhook_posts_nothing():
    assert not AlertResource().post("anything", LOG)


def test_a_failing_webhook_is_a_warning_without_its_token(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
):
    receiver.status = 500
    unreachable = "http://127.0.0.1:9" + TOKEN_PATH  # the discard port: nobody listens

    with caplog.at_level(logging.WARNING):
        assert not AlertResource(webhook_url=receiver.url).post("x", LOG)
        assert not AlertResource(webhook_url=unreachable, timeout_s=2).post("x", LOG)

    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        "alert not delivered: webhook answered HTTP 500",
        "alert not delivered: webhook unreachable (ConnectionError)",
    ]
    assert "s3cr3t" not in caplog.text


def test_an_invalid_webhook_setting_is_hidden():
    with pytest.raises(ConfigurationError) as info:
        parse_setting("ARCHIVER_ALERT_WEBHOOK_URL", "hooks.example.org/s3cr3t")
    assert str(info.value).startswith("ARCHIVER_ALERT_WEBHOOK_URL=<hidden>: must be a full URL")


def _tick(instance: DagsterInstance, url: str, cursor: str | None = None) -> str | None:
    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"alerts": AlertResource(webhook_url=url)}
    ) as context:
        archiver_alert_sensor(context)
        return context.cursor


def test_the_sensor_posts_each_failed_audit_dataset_error_and_failed_job_once(
    stack: LocalStack, instance, seed_dataset, unique_pid, receiver: WebhookReceiver
):
    start = _tick(instance, receiver.url)  # the first tick only starts the cursor from now
    broken, corrupt = unique_pid(), unique_pid()
    files = sample_files(3, 500)
    seed_dataset(broken, files, upload=files[:-1])  # one file never uploaded: a user error
    failed = archive(instance, broken, {"lts": lts(stack)})
    assert not failed.success
    seed_dataset(corrupt)
    assert archive_checked(instance, corrupt, {"lts": lts(stack)}).success
    block = stack.scicat.datablocks(corrupt)[0]
    path = stack.lts_root / block["archiveId"]
    path.write_bytes(path.read_bytes()[:-1] + b"\x01")
    assert not evaluations(run_checks(instance, corrupt, {"lts": lts(stack)}))[
        "lts_copies_intact"
    ].passed
    # The job-status sensor reported the broken dataset's job finishedUnsuccessful.
    instance.add_run_tags(
        failed.run_id,
        {
            JOB_ID_TAG: "job-7",
            JOB_TYPE_TAG: "archive",
            CLEANED_UP_TAG: "true",
            JOB_REPORTED_TAG: "finishedUnsuccessful",
        },
    )

    cursor = _tick(instance, receiver.url, start)

    texts = receiver.texts
    assert len(texts) == 3, texts
    dataset_error = next(text for text in texts if "user error in" in text)
    assert dataset_error.startswith(f"archiver: dataset {broken}: user error in ")
    assert files[-1].path in dataset_error
    job = next(text for text in texts if "SciCat job" in text)
    assert job.startswith("archiver: SciCat job job-7 finished unsuccessfully: 1 of 1 datasets")
    audit = next(text for text in texts if "fixity check" in text)
    assert audit.startswith(
        f"archiver: fixity check lts_copies_intact failed for dataset {corrupt}"
    )
    assert block["archiveId"] in audit
    run = instance.get_run_by_id(failed.run_id)
    assert run is not None and ALERTED_TAG in run.tags
    for text in texts:
        assert "s3cr3t" not in text and "://" not in text

    _tick(instance, receiver.url, cursor)
    _tick(instance, receiver.url, start)  # from the old cursor, a run is still alerted once

    assert len(receiver.texts) == 4  # only the failed check again, which the cursor held
    assert receiver.texts[3] == audit


def test_the_first_tick_posts_nothing_that_failed_before(
    stack: LocalStack, instance, seed_dataset, unique_pid, receiver: WebhookReceiver
):
    pid = unique_pid()
    files = sample_files(2, 300)
    seed_dataset(pid, files, upload=files[:1])
    assert not archive(instance, pid, {"lts": lts(stack)}).success

    cursor = _tick(instance, receiver.url)
    _tick(instance, receiver.url, cursor)

    assert receiver.bodies == []


def test_a_failing_webhook_never_fails_the_tick(
    stack: LocalStack, instance, seed_dataset, unique_pid, receiver: WebhookReceiver
):
    pid = unique_pid()
    files = sample_files(2, 300)
    seed_dataset(pid, files, upload=files[:1])
    assert not archive(instance, pid, {"lts": lts(stack)}).success
    receiver.status = 503

    _tick(instance, receiver.url, FROM_THE_START)

    assert len(receiver.bodies) == 1  # tried once, not retried
