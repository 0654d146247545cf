"""The audit trail of a dataset and `archiver-dagster history PID`."""

import json

import pytest

from archiver_dagster.cli import main
from archiver_dagster_tests.fixity.helpers import archive_checked, run_checks
from archiver_dagster_tests.helpers import archive, lts, retrieve, run_cleanup_sensor
from devstack.seed import sample_files
from devstack.stack import LocalStack


def test_history_lists_every_event_of_an_archived_audited_retrieved_dataset(
    stack: LocalStack,
    sqlite_instance,
    seed_dataset,
    unique_pid,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
):
    pid = unique_pid()
    seed_dataset(pid)
    archived = archive_checked(sqlite_instance, pid, {"lts": lts(stack)})
    audited = run_checks(sqlite_instance, pid, {"lts": lts(stack)})
    retrieved = retrieve(sqlite_instance, pid, {"lts": lts(stack)})
    assert archived.success and audited.success and retrieved.success
    monkeypatch.setenv("DAGSTER_HOME", sqlite_instance.root_directory)

    assert main(["history", pid, "--json"]) == 0
    events = json.loads(capsys.readouterr().out)

    kinds = [(e["event_type"], e["outcome"], e["agent"]) for e in events]
    assert kinds == [
        ("message digest calculation", "success", "datablocks"),
        ("replication", "success", "lts_datablocks"),
        ("fixity check", "success", "verified_datablocks"),
        ("ingestion", "success", "verified_datablocks"),
        ("deletion", "success", "verified_datablocks"),
        ("fixity check", "success", "lts_copies_intact"),  # attests the read-back above
        ("validation", "success", "scicat_consistent"),
        ("fixity check", "success", "lts_copies_intact"),  # the audit, read from the media
        ("validation", "success", "scicat_consistent"),
        ("dissemination", "success", "retrieved_datablocks"),
    ]
    blocks = {b["archiveId"] for b in stack.scicat.datablocks(pid)}
    digest, _, readback, *_ = events
    # The tars' checksums, packed and read back, are XXH3-128 (decision 70).
    assert digest["algorithm"] == readback["algorithm"] == "xxh3_128"
    assert set(digest["checksums"]) == blocks
    assert readback["checksums"] == digest["checksums"]  # what was read back is what was packed
    assert events[7]["checksums"] == digest["checksums"]
    assert events[7]["run_id"] == audited.run_id
    assert events[0]["run_id"] == archived.run_id
    assert events[9]["run_id"] == retrieved.run_id
    times = [e["time"] for e in events]
    assert times == sorted(times)

    assert main(["history", pid]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(
        f"message digest calculation: success [xxh3_128]  datablocks run {archived.run_id}  "
        f"{len(blocks)} tars packed, hashed and registered in SciCat"
    )
    for archive_id, checksum in digest["checksums"].items():
        assert f"    {archive_id}  {checksum}" in lines


def test_history_records_a_failed_archival_and_its_cleanup(
    stack: LocalStack,
    sqlite_instance,
    seed_dataset,
    unique_pid,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
):
    pid = unique_pid()
    files = sample_files(3, 400)
    seed_dataset(pid, files, upload=files[:-1])
    failed = archive(sqlite_instance, pid, {"lts": lts(stack)})
    assert not failed.success
    run_cleanup_sensor(sqlite_instance, {"lts": lts(stack)})
    monkeypatch.setenv("DAGSTER_HOME", sqlite_instance.root_directory)

    assert main(["history", pid, "--json"]) == 0
    events = json.loads(capsys.readouterr().out)

    assert [(e["event_type"], e["outcome"]) for e in events] == [
        ("ingestion", "failure"),
        ("deletion", "success"),
    ]
    assert events[0]["run_id"] == events[1]["run_id"] == failed.run_id
    assert events[0]["detail"].startswith("user error: ")
    assert files[-1].path in events[0]["detail"]
    assert events[1]["agent"] == "dataset_cleanup_sensor"
    assert events[1]["detail"].startswith(f"cleanup after failed run {failed.run_id}")


def test_history_of_an_unknown_dataset_says_so(
    sqlite_instance, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    monkeypatch.setenv("DAGSTER_HOME", sqlite_instance.root_directory)

    assert main(["history", "20.500.1/never-seen"]) == 1

    assert capsys.readouterr().err == (
        "no events of dataset 20.500.1/never-seen in this Dagster instance\n"
    )
