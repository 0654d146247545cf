"""The in-memory SciCat fake: it answers as the HTTP simulator does, and injects faults per call.

The parity test runs one sequence of client calls (every call the archiver makes, on both jobs
APIs, with a PID that needs percent-encoding, errors, transient faults and a lost answer) once
against the simulator over HTTP and once against the fake, and compares what the client
returned or raised and what each backend received.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    asset,
    build_sensor_context,
    materialize,
)

from archiver_dagster.automation.intake_sensor import scicat_jobs_sensor
from archiver_dagster.scicat.client import SciCatClient
from archiver_dagster.scicat.errors import DatasetNotFoundError, SciCatError
from archiver_dagster.scicat.job_api import JobStatus, get_job, list_jobs, update_job
from archiver_dagster.scicat.models import CreateDatablock, DataFile, LifecycleUpdate
from archiver_dagster.scicat.resource import SciCatResource
from devstack.scicat_fake import FAKE_ENDPOINT, OPERATIONS, FakeSciCatResource, SciCatFake
from devstack.scicat_sim import SciCatSimulator
from devstack.scicat_sim.backend import SimBackend

PID = "20.500.12345/parity one"
TIME = "2026-01-01T00:00:00Z"
SETTINGS: dict[str, Any] = {"retries": 3, "backoff_s": 0.0, "timeout_s": 5.0}


def seed(backend: SimBackend, pid: str = PID) -> str:
    backend.seed_dataset(
        {
            "pid": pid,
            "type": "raw",
            "owner": "o",
            "ownerGroup": "g",
            "contactEmail": "o@x.org",
            "sourceFolder": "/d",
            "creationTime": TIME,
            "datasetName": "parity",
        }
    )
    backend.seed_origdatablock(
        pid, {"size": 3, "dataFileList": [{"path": "raw/a", "size": 3, "time": TIME}]}
    )
    return pid


def datablock(index: int, size: int = 3) -> CreateDatablock:
    return CreateDatablock(
        archive_id=f"openem-network/datasets/{PID}/datablocks/x_{index}.tar",
        size=size,
        packed_size=10240,
        chk_alg="md5",
        version="1.0",
        data_file_list=[DataFile(path="raw/a", size=size, time=TIME, chk="0" * 32)],
    )


def outcome(call: Callable[[], Any]) -> Any:
    """What a call returned (as JSON-able data) or raised (type, status, message)."""
    try:
        value = call()
    except (SciCatError, DatasetNotFoundError) as error:
        return ("raised", type(error).__name__, getattr(error, "status", None), str(error))
    if isinstance(value, list):
        return [item.model_dump(mode="json") for item in value]
    return value.model_dump(mode="json") if value is not None else None


def scenario(backend: SimBackend, client: SciCatClient) -> list[Any]:
    """Every call the archiver makes, as it makes them, with faults the backends both inject."""
    seed(backend)
    other = seed(backend, "20.500.12345/other")
    job_body = {"type": "archive", "jobParams": {"datasetList": [{"pid": PID, "files": []}]}}
    job_id = backend.seed_job({**job_body, "ownerGroup": "g"})["id"]
    results = [
        outcome(lambda: client.get_dataset(PID)),
        outcome(lambda: client.get_dataset("20.500.12345/absent")),
        outcome(lambda: client.get_origdatablocks(PID)),
        outcome(lambda: client.get_datablocks(other)),
        outcome(lambda: client.create_datablock(PID, datablock(0))),
        outcome(lambda: client.create_datablock(PID, datablock(0, size=4))),  # 409: other sizes
    ]
    backend.fail_next(1, status=503, method="POST", path_contains="/datablocks", after_apply=True)
    results.append(outcome(lambda: client.create_datablock(PID, datablock(1))))  # answer lost
    backend.fail_next(2, status=503, method="PATCH", path_contains="datasetlifecycle")
    results.append(
        outcome(
            lambda: client.update_lifecycle(PID, LifecycleUpdate(archive_status_message="started"))
        )
    )
    backend.fail_next(9, status=502, method="GET", path_contains=other)  # more than the retries
    results.append(outcome(lambda: client.get_dataset(other)))
    backend.clear_faults()
    blocks = client.get_datablocks(PID)
    results.append([block.model_dump(mode="json") for block in blocks])
    results.append(outcome(lambda: client.delete_datablock(PID, blocks[0].id)))
    results.append(outcome(lambda: client.delete_datablock(PID, blocks[0].id)))  # already gone
    results.append(outcome(lambda: client.get_dataset(PID)))
    listed = list(list_jobs(client, "archive", "jobSubmitted", page_size=1))
    results.append([job.model_dump(mode="json") for job in listed])
    update_job(client, job_id, JobStatus.IN_PROGRESS, "archive of 1 datasets started")
    results.append(get_job(client, job_id).model_dump(mode="json"))
    results.append(outcome(lambda: get_job(client, "no-such-job")))
    results.append(client.transient_faults)
    return results


def anonymous(data: Any, endpoint: str = "") -> str:
    """`data` with the endpoint, generated ids and time stamps replaced by placeholders."""
    text = repr(data).replace(endpoint, "<scicat>") if endpoint else repr(data)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<time>", text)


def received(backend: SimBackend) -> list[tuple[str, str, int, Any]]:
    """What the backend received, in order: method, path, status and body."""
    return [(r.method, r.path, r.status, r.body) for r in backend.requests if "login" not in r.path]


@pytest.fixture
def simulator() -> Iterator[SciCatSimulator]:
    with SciCatSimulator() as sim:
        yield sim


@pytest.mark.parametrize("version", [3, 4])
def test_fake_and_simulator_answer_the_same_sequence_of_client_calls(version, simulator):
    prefix = f"/api/v{version}"
    over_http = SciCatClient(
        simulator.url, "/api/v3", prefix, "archiver", "archiver-password", **SETTINGS
    )
    fake = SciCatFake()
    in_memory = fake.client(jobs_api_prefix=prefix, **SETTINGS)

    expected = scenario(simulator, over_http)
    actual = scenario(fake, in_memory)

    assert anonymous(actual, FAKE_ENDPOINT) == anonymous(expected, simulator.url)
    assert anonymous(received(fake)) == anonymous(received(simulator))
    assert expected[-1] == 2 + 3  # two 503s ridden out, then three 502s retried in vain


def test_a_disabled_operation_raises_its_error_and_is_recorded():
    refused = SciCatError("SciCat refused the update", status=403)
    fake = SciCatFake(disable={"update_lifecycle": refused})
    client = fake.client()
    seed(fake)

    with pytest.raises(SciCatError, match="refused the update"):
        client.update_lifecycle(PID, LifecycleUpdate(archive_status_message="started"))

    [call] = fake.calls_of("update_lifecycle")
    assert (call.status, call.error, call.body) == (
        None,
        refused,
        {"archiveStatusMessage": "started"},
    )
    assert fake.dataset(PID)["datasetlifecycle"]["archiveStatusMessage"] == "isOnCentralDisk"
    assert client.get_dataset(PID).pid == PID  # the other operations still answer


def test_a_connection_error_reads_as_scicat_unreachable():
    fake = SciCatFake(disable={"get_dataset": requests.ConnectionError("connection refused")})

    with pytest.raises(SciCatError, match=r"SciCat unreachable: GET .* connection refused"):
        fake.client().get_dataset(PID)


def test_unknown_operations_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown SciCat operation 'update_lifecycel'"):
        SciCatFake(disable={"update_lifecycel": SciCatError("typo")})
    with pytest.raises(ValueError, match="known: "):
        SciCatFake().fail_calls("get_datasets")
    assert {"update_job", "list_jobs", "create_datablock"} <= OPERATIONS


def test_transient_faults_are_retried_by_the_clients_own_policy_without_waiting():
    fake = SciCatFake()
    seed(fake)
    notices: list[Any] = []
    client = fake.client(retries=2, backoff_s=3600.0, on_retry=notices.append)
    fake.fail_calls("get_dataset", count=2, status=503)

    assert client.get_dataset(PID).pid == PID  # an hour's backoff twice, not slept

    assert [call.status for call in fake.calls_of("get_dataset")] == [503, 503, 200]
    assert client.transient_faults == 2 and [n.attempt for n in notices] == [2, 3]
    fake.fail_calls("get_dataset", count=3, status=503)
    with pytest.raises(SciCatError, match="answered 503"):
        client.get_dataset(PID)  # three faults, two retries


def test_a_lost_registration_answer_registers_the_datablock_once():
    fake = SciCatFake()
    seed(fake)
    fake.fail_calls("create_datablock", status=504, after_apply=True)

    stored = fake.client().create_datablock(PID, datablock(0))

    assert [block["_id"] for block in fake.datablocks(PID)] == [stored.id]
    assert [c.operation for c in fake.calls if c.operation != "login"] == [
        "create_datablock",
        "get_datablocks",
    ]


def test_faults_aimed_at_one_path_leave_the_others_alone():
    fake = SciCatFake()
    seed(fake)
    other = seed(fake, "20.500.12345/other")
    fake.fail_calls("get_dataset", count=5, status=404, path_contains=other)
    client = fake.client()

    assert client.get_dataset(PID).pid == PID
    with pytest.raises(DatasetNotFoundError):
        client.get_dataset(other)


def test_sensors_take_the_fake_resource_as_a_scicat_resource():
    fake = SciCatFake()
    seed(fake)
    job = fake.seed_job(
        {
            "type": "archive",
            "jobParams": {"datasetList": [{"pid": PID, "files": []}]},
            "ownerGroup": "g",
        }
    )
    resource = FakeSciCatResource(fake=fake, jobs_api_prefix="/api/v4")
    assert isinstance(resource, SciCatResource)

    with (
        DagsterInstance.ephemeral() as instance,
        build_sensor_context(instance=instance, resources={"scicat": resource}) as context,
    ):
        result = scicat_jobs_sensor(context)

    assert [request.run_key for request in result.run_requests] == [f"{job['id']}:{PID}"]
    assert {call.operation for call in fake.calls} == {"login", "list_jobs"}


def test_ops_take_the_fake_resource_and_log_its_retries(capfd):
    fake = SciCatFake()
    seed(fake)
    fake.fail_calls("update_lifecycle", count=1, status=503)

    @asset
    def marks_started(context: AssetExecutionContext, scicat: SciCatResource) -> None:
        with scicat.run_session(context.log) as client:
            client.update_lifecycle(PID, LifecycleUpdate(archive_status_message="started"))
        assert client.transient_faults == 1

    assert materialize([marks_started], resources={"scicat": FakeSciCatResource(fake=fake)}).success
    assert fake.dataset(PID)["datasetlifecycle"]["archiveStatusMessage"] == "started"
    assert "SciCat: PATCH http://scicat.fake/" in capfd.readouterr().err
