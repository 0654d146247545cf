"""`archiver-dagster check-scicat`: a read-only preflight against a SciCat over real HTTP."""

import socket
from collections.abc import Iterator

import pytest

from archiver_dagster.cli import main
from devstack.scicat_sim import SciCatSimulator
from devstack.seed import SciCatSeeder, sample_files

USER, PASSWORD = "archiveManager", "preflight-password"
PID = "20.500.11935/preflight-1"
NAMES = ("login", "dataset", "origdatablocks", "datablocks", "archive jobs", "retrieve jobs")


def simulator(jobs_apis: str) -> SciCatSimulator:
    return SciCatSimulator(users={USER: PASSWORD}, jobs_apis=jobs_apis)


@pytest.fixture(params=["v3", "v4"])
def one_jobs_api(request: pytest.FixtureRequest) -> Iterator[SciCatSimulator]:
    """A SciCat that serves only the v3 or only the v4 jobs API, with one dataset and job."""
    with simulator(request.param) as sim:
        SciCatSeeder(sim.url, USER, PASSWORD).create_dataset(PID, sample_files(3, 10))
        entries = [{"pid": PID, "files": []}]
        if request.param == "v3":
            sim.seed_job({"type": "archive", "datasetList": entries}, api_version=3)
        else:
            body = {"type": "archive", "jobParams": {"datasetList": entries}, "ownerGroup": "g"}
            sim.seed_job(body, api_version=4)
        yield sim


def configure(monkeypatch: pytest.MonkeyPatch, sim_url: str, jobs_api: str, **extra: str) -> None:
    variables = {
        "SCICAT_ENDPOINT": sim_url,
        "SCICAT_API_PREFIX": "/api/v3",
        "SCICAT_JOBS_API_PREFIX": f"/api/{jobs_api}",
        "SCICAT_USER": USER,
        "SCICAT_PASSWORD": PASSWORD,
    }
    for name, value in (variables | extra).items():
        monkeypatch.setenv(name, value)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """Runs the command; returns its exit code, each endpoint's line by name, and the summary."""
    code = main(["check-scicat", "--retries", "0", *args])
    lines = capsys.readouterr().out.splitlines()
    by_name = {}
    for line in lines[:-1]:
        name = next(n for n in (*NAMES, "datasets") if line[6:].startswith(n + " "))
        by_name[name] = line
    return code, by_name, lines[-1]


def test_every_endpoint_is_ok_on_the_jobs_api_served(
    one_jobs_api: SciCatSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = one_jobs_api.jobs_apis
    configure(monkeypatch, one_jobs_api.url, served)
    one_jobs_api.clear_requests()
    code, lines, summary = check(capsys, "--pid", PID)
    assert code == 0 and summary == "SciCat check OK"
    assert set(lines) == set(NAMES)
    assert all(line.startswith("ok    ") for line in lines.values()), lines
    assert f"{PID} (archiveStatusMessage 'isOnCentralDisk')" in lines["dataset"]
    assert "1 origdatablocks, 3 files" in lines["origdatablocks"]
    assert "0 datablocks" in lines["datablocks"]
    assert f"{served}, 1 archive jobs in 'jobSubmitted'" in lines["archive jobs"]
    assert f"{served}, 0 retrieve jobs in 'jobSubmitted'" in lines["retrieve jobs"]
    writes = [(r.method, r.path) for r in one_jobs_api.requests if r.method != "GET"]
    assert writes == [("POST", "/api/v3/auth/login")]  # read-only: nothing but the login


def test_the_other_jobs_api_is_reported_missing(
    one_jobs_api: SciCatSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = "v4" if one_jobs_api.jobs_apis == "v3" else "v3"
    configure(monkeypatch, one_jobs_api.url, other)
    code, lines, summary = check(capsys, "--pid", PID)
    assert code == 1
    assert summary == "SciCat check failed: archive jobs, retrieve jobs"
    for name in ("archive jobs", "retrieve jobs"):
        assert lines[name].startswith("FAIL  ") and "route missing (HTTP 404)" in lines[name]
    assert lines["datablocks"].startswith("ok    ")


def test_without_pid_the_first_listed_dataset_is_read(
    one_jobs_api: SciCatSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, one_jobs_api.url, one_jobs_api.jobs_apis)
    code, lines, _ = check(capsys)
    assert code == 0
    assert f"first dataset {PID}" in lines["datasets"] and PID in lines["dataset"]


def test_refused_login_fails_and_nothing_else_is_checked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulator("v3v4") as sim:
        configure(monkeypatch, sim.url, "v3", SCICAT_PASSWORD="wrong")
        code, lines, _ = check(capsys, "--pid", PID)
    assert code == 1
    assert "auth refused (HTTP 401)" in lines["login"]
    assert "wrong" not in "".join(lines.values())  # the password is never printed
    assert all("not checked: login failed" in lines[n] for n in NAMES[1:])


def test_unknown_dataset_is_reported_not_found(
    one_jobs_api: SciCatSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, one_jobs_api.url, one_jobs_api.jobs_apis)
    code, lines, _ = check(capsys, "--pid", "20.500.11935/missing")
    assert code == 1
    assert lines["dataset"].startswith("FAIL") and "not found" in lines["dataset"]
    assert "route missing" not in lines["dataset"]


def test_a_field_we_need_that_is_absent_or_of_another_type_is_named(
    one_jobs_api: SciCatSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(monkeypatch, one_jobs_api.url, one_jobs_api.jobs_apis)

    def old_backend(answer: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in block.items() if k != "_id"} for block in answer]

    with one_jobs_api.answers_rewritten("GET", "/origdatablocks", old_backend):
        code, lines, _ = check(capsys, "--pid", PID)
    assert code == 1
    assert "0._id: Field required" in lines["origdatablocks"]
    with one_jobs_api.answers_rewritten("GET", PID, lambda dataset: dataset | {"pid": 42}):
        code, lines, _ = check(capsys, "--pid", PID)
    assert code == 1 and "pid: Input should be a valid string" in lines["dataset"]


def test_unreachable_scicat_fails_at_login(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    configure(monkeypatch, f"http://127.0.0.1:{port}", "v3")
    code, lines, _ = check(capsys)
    assert code == 1 and "SciCat unreachable" in lines["login"]


def test_missing_configuration_is_named_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCICAT_ENDPOINT", raising=False)
    monkeypatch.setenv("SCICAT_USER", USER)
    monkeypatch.setenv("SCICAT_PASSWORD", PASSWORD)
    assert main(["check-scicat"]) == 2
    assert "SCICAT_ENDPOINT is not set" in capsys.readouterr().err
