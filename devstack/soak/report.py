"""The soak's figures: what ran, which faults hit it, how datasets ended, which invariants held."""

from collections import Counter
from typing import TYPE_CHECKING

from pydantic import BaseModel

from devstack.soak.datasets import SoakDataset
from devstack.soak.fault_plan import FaultKind, FaultTally
from devstack.soak.invariants import ARCHIVED, DatasetSeen, Invariant
from devstack.soak.s3_proxy import ProxyCounts

if TYPE_CHECKING:
    from devstack.soak.session import SoakConfig

SHOWN_PROBLEMS = 10
ERROR_CHARS = 160  # of each failed dataset's message
USER_ERROR = "missingFilesError"
SYSTEM_ERROR = "scheduleArchiveJobFailed"
HITS = {
    FaultKind.SCICAT_OUTAGE: "requests answered 503",
    FaultKind.SCICAT_5XX: "requests answered 5xx",
    FaultKind.S3_503: "requests answered 503",
    FaultKind.S3_RESET: "connections reset mid-transfer",
    FaultKind.RUN_WORKER_KILL: "run workers killed",
    FaultKind.DAEMON_RESTART: "restarts",
    FaultKind.LTS_FULL: "",
}


class Outcomes(BaseModel):
    """How the datasets and jobs ended."""

    archived: int = 0
    user_error: int = 0
    system_error: int = 0
    other: int = 0
    missing_files_as_user_error: int = 0
    missing_files_datasets: int = 0
    # Good datasets: every file uploaded and the run worker never killed. A transient fault
    # must not cost any of them (docs/operations.md, "Soak").
    good: int = 0
    good_archived: int = 0
    jobs: dict[str, int] = {}
    errors: dict[str, str] = {}  # pid -> state and message of each failed dataset

    @property
    def good_archived_share(self) -> float:
        """Share of the good datasets that were archived (1.0 when there are none)."""
        return self.good_archived / self.good if self.good else 1.0


class SoakReport(BaseModel):
    """Every figure of one soak, printed at the end and written as JSON."""

    command: str = ""
    commit: str = ""
    seed: int
    profile: str = "mixed"
    datasets: int
    shapes: dict[str, int]
    with_missing_files: int
    jobs: int
    jobs_api: str
    duration_s: float
    bytes_seeded: int = 0
    lts: str = ""
    run_monitoring_added: bool = False
    faults: list[FaultTally] = []
    proxy: ProxyCounts = ProxyCounts()
    runs: str = ""
    outcomes: Outcomes = Outcomes()
    invariants: list[Invariant] = []
    timed_out: bool = False
    drive_s: float = 0.0
    checks_s: float = 0.0
    wall_s: float = 0.0

    @classmethod
    def start(cls, config: "SoakConfig", plans: list[SoakDataset]) -> "SoakReport":
        """The report's figures known before anything ran."""
        return cls(
            seed=config.seed,
            profile=config.profile.value,
            datasets=len(plans),
            shapes=dict(sorted(Counter(plan.shape for plan in plans).items())),
            with_missing_files=sum(1 for plan in plans if plan.missing),
            jobs=min(config.jobs, len(plans)),
            jobs_api=config.jobs_api,
            duration_s=config.duration_s,
        )

    @property
    def held(self) -> bool:
        """Whether every invariant held (and they were checked at all)."""
        return bool(self.invariants) and all(invariant.holds for invariant in self.invariants)


def outcomes(
    seen: list[DatasetSeen],
    plans: list[SoakDataset],
    jobs: dict[str, str],
    killed: set[str] | None = None,
) -> Outcomes:
    """Counts datasets by final state and jobs by status; `killed`: PIDs whose worker died."""
    states = Counter(dataset.status for dataset in seen)
    missing = {plan.pid for plan in plans if plan.missing}
    good = [dataset for dataset in seen if dataset.pid not in missing | (killed or set())]
    return Outcomes(
        archived=states[ARCHIVED],
        user_error=states[USER_ERROR],
        system_error=states[SYSTEM_ERROR],
        other=len(seen) - states[ARCHIVED] - states[USER_ERROR] - states[SYSTEM_ERROR],
        missing_files_datasets=len(missing),
        missing_files_as_user_error=sum(
            1 for dataset in seen if dataset.pid in missing and dataset.status == USER_ERROR
        ),
        good=len(good),
        good_archived=sum(1 for dataset in good if dataset.status == ARCHIVED),
        jobs=dict(sorted(Counter(jobs.values()).items())),
        errors={
            dataset.pid: f"{dataset.status}: {dataset.error}"
            for dataset in seen
            if dataset.status != ARCHIVED
        },
    )


def _fault_line(tally: FaultTally) -> str:
    text = f"  {tally.kind.value:<16}{tally.injected:>3} of {tally.planned} injected"
    if tally.seconds:
        text += f", {tally.seconds:5.0f} s"
    if HITS[tally.kind] and tally.kind is not FaultKind.DAEMON_RESTART:
        text += f", {tally.hits} {HITS[tally.kind]}"
    skipped = [note for note in tally.notes if note.startswith("not injected")]
    if skipped:
        text += f" ({skipped[0]})"
    return text


def format_report(report: SoakReport) -> list[str]:
    """The report as lines of text, in a stable order."""
    shapes = ", ".join(f"{count} {shape}" for shape, count in report.shapes.items())
    out = report.outcomes
    lines = [
        f"command:     {report.command} (commit {report.commit})",
        f"datasets:    {report.datasets} ({shapes}; {report.with_missing_files} with a missing "
        f"file), {report.bytes_seeded} bytes, seed {report.seed}",
        f"jobs:        {report.jobs} archive jobs (read through {report.jobs_api}): "
        + (", ".join(f"{n} {state}" for state, n in out.jobs.items()) or "none"),
        f"runs:        {report.runs}",
        f"LTS:         {report.lts}"
        + (
            "; run monitoring polls every 5 s in the soak's dagster.yaml"
            if report.run_monitoring_added
            else ""
        ),
        f"faults ({report.profile}, {report.duration_s:.0f} s):",
        *(_fault_line(tally) for tally in report.faults),
        f"  S3 proxy: {report.proxy.requests} requests over {report.proxy.connections} connections",
        f"outcomes:    {out.archived} archived, {out.user_error} user error, "
        f"{out.system_error} system error, {out.other} other; datasets with a missing file "
        f"ending as user error: {out.missing_files_as_user_error} of {out.missing_files_datasets}",
        f"good:        {out.good_archived} of {out.good} datasets with every file and no killed "
        f"run worker archived ({out.good_archived_share:.0%})",
        *(
            f"  {pid}: {error[:ERROR_CHARS]}{'...' if len(error) > ERROR_CHARS else ''}"
            for pid, error in out.errors.items()
        ),
        "invariants:",
    ]
    for invariant in report.invariants:
        mark = "held  " if invariant.holds else "BROKEN"
        lines.append(f"  [{mark}] {invariant.name}: {invariant.held} of {invariant.checked}")
        lines += [f"           {problem}" for problem in invariant.problems[:SHOWN_PROBLEMS]]
        if len(invariant.problems) > SHOWN_PROBLEMS:
            lines.append(f"           ... and {len(invariant.problems) - SHOWN_PROBLEMS} more")
    if report.timed_out:
        lines.append("  (gave up waiting for the jobs: the timeout was reached)")
    lines.append(
        f"wall time:   {report.wall_s:.0f} s ({report.drive_s:.0f} s from the first job until "
        f"the faults had ended and every job was final, checks {report.checks_s:.0f} s)"
    )
    held = sum(1 for invariant in report.invariants if invariant.holds)
    verdict = "all held" if report.held else "BROKEN"
    lines.append(f"result:      {held} of {len(report.invariants)} invariants held: {verdict}")
    return lines
