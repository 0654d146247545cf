"""Injects the planned faults, one thread per lane, and counts what each did."""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from devstack.demo import open_instance
from devstack.scicat_sim import SciCatSimulator
from devstack.services import DagsterServices
from devstack.soak.fault_plan import FaultKind, FaultTally, PlannedFault, lane_of
from devstack.soak.lts_fill import FillableLTS
from devstack.soak.run_workers import kill_a_run_worker
from devstack.soak.s3_proxy import FaultyProxy, ProxyCounts

INJECTED_MESSAGE = "Injected fault"
BURST_WAIT_S = 30.0  # a SciCat burst not used up by then is disarmed
KILL_WAIT_S = 60.0  # longest wait for a STARTED run whose worker can be killed
RESET_FRACTION = 0.3  # of the responses during a reset window
# An S3 window with no request in it stays open until one comes, at most this long in all.
ARMED_MAX_S = 60.0
SCICAT_5XX = (500, 502, 503, 504)
# "" is any request; the others aim at one route family (a path filter never matches a longer
# family: "/datablocks" is not in "/origdatablocks").
SCICAT_PATHS = ("", "/Jobs", "/origdatablocks", "/datablocks", "/datasetlifecycle")


@dataclass
class FaultTargets:
    """What the faults act on; `lts` is None when the LTS cannot be filled (with the reason)."""

    scicat: SciCatSimulator
    proxy: FaultyProxy
    services: DagsterServices
    home: Path
    lts: FillableLTS | None
    lts_unavailable: str = ""


class FaultRunner:
    """Runs a fault plan from a start time; `stop()` ends every fault and waits for the lanes."""

    def __init__(
        self, targets: FaultTargets, plan: list[PlannedFault], seed: int, say: Callable[[str], None]
    ) -> None:
        self.targets = targets
        self.plan = plan
        self.say = say
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._start = 0.0
        self.tallies = {kind: FaultTally(kind=kind) for kind in FaultKind}
        self.killed_runs: list[str] = []
        for fault in plan:
            self.tallies[fault.kind].planned += 1

    def start(self, t0: float) -> None:
        """Starts one thread per lane; fault times count from `t0` (monotonic)."""
        self._start = t0
        lanes: dict[str, list[PlannedFault]] = {}
        for fault in self.plan:
            lanes.setdefault(lane_of(fault.kind), []).append(fault)
        for name, faults in lanes.items():
            thread = threading.Thread(target=self._lane, args=(faults,), name=f"faults-{name}")
            self._threads.append(thread)
            thread.start()

    def done(self) -> bool:
        """Whether every lane has finished its faults."""
        return not any(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Ends the current faults early, waits for the lanes and disarms everything."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        self.targets.proxy.clear()
        self.targets.scicat.clear_faults()
        if self.targets.lts is not None:
            self.targets.lts.drain()

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    def _lane(self, faults: list[PlannedFault]) -> None:
        for fault in faults:
            if self._stop.wait(max(self._start + fault.at_s - time.monotonic(), 0.0)):
                return
            self.say(f"[{self._elapsed():6.1f} s] fault {fault.kind}: start")
            try:
                outcome = self._inject(fault)
            except Exception as error:  # a fault that cannot be injected is reported, not fatal
                outcome = f"not injected: {type(error).__name__}: {error}"
                self._note(fault.kind, outcome)
            self.say(f"[{self._elapsed():6.1f} s] fault {fault.kind}: {outcome}")

    def _count(self, kind: FaultKind, seconds: float = 0.0, hits: int = 0) -> None:
        with self._lock:
            tally = self.tallies[kind]
            tally.injected += 1
            tally.seconds += seconds
            tally.hits += hits

    def _note(self, kind: FaultKind, note: str) -> None:
        with self._lock:
            self.tallies[kind].notes.append(note)

    def _window(self, seconds: float) -> float:
        """Sleeps for the window (cut short by `stop()`); returns the seconds it lasted."""
        started = time.monotonic()
        self._stop.wait(seconds)
        return time.monotonic() - started

    def _inject(self, fault: PlannedFault) -> str:
        handlers = {
            FaultKind.SCICAT_OUTAGE: self._scicat_outage,
            FaultKind.SCICAT_5XX: self._scicat_burst,
            FaultKind.S3_503: self._s3_refusals,
            FaultKind.S3_RESET: self._s3_resets,
            FaultKind.RUN_WORKER_KILL: self._kill_run_worker,
            FaultKind.DAEMON_RESTART: self._restart_daemon,
            FaultKind.LTS_FULL: self._fill_lts,
        }
        return handlers[fault.kind](fault)

    def _injected_answers(self) -> int:
        scicat = self.targets.scicat
        return sum(
            1
            for request in scicat.requests
            if isinstance(request.response, dict)
            and request.response.get("message") == INJECTED_MESSAGE
        )

    def _scicat_outage(self, fault: PlannedFault) -> str:
        scicat = self.targets.scicat
        scicat.clear_requests()
        scicat.fail_next(10**9, HTTPStatus.SERVICE_UNAVAILABLE)
        seconds = self._window(fault.duration_s)
        scicat.clear_faults()
        refused = self._injected_answers()
        scicat.clear_requests()
        self._count(fault.kind, seconds, refused)
        return f"SciCat down for {seconds:.0f} s, {refused} requests answered 503"

    def _scicat_burst(self, fault: PlannedFault) -> str:
        scicat = self.targets.scicat
        count = self._rng.randint(3, 10)
        status = self._rng.choice(SCICAT_5XX)
        path = self._rng.choice(SCICAT_PATHS)
        after_apply = self._rng.random() < 0.5
        scicat.clear_requests()
        scicat.fail_next(count, status, path_contains=path, after_apply=after_apply)
        started = time.monotonic()
        while self._injected_answers() < count and not self._stop.wait(0.5):
            if time.monotonic() - started > BURST_WAIT_S:
                break
        scicat.clear_faults()
        answered = self._injected_answers()
        scicat.clear_requests()
        self._count(fault.kind, time.monotonic() - started, answered)
        applied = ", applied before the answer was lost" if after_apply else ""
        return f"{answered} of {count} requests to '{path or '*'}' answered {status}{applied}"

    def _armed(self, seconds: float, hits: Callable[[], int]) -> float:
        """Waits out a window, then on until it hit something (`ARMED_MAX_S` in all); seconds."""
        started = time.monotonic()
        self._stop.wait(seconds)
        while hits() == 0 and time.monotonic() - started < ARMED_MAX_S:
            if self._stop.wait(0.5):
                break
        return time.monotonic() - started

    def _proxy_window(
        self,
        fault: PlannedFault,
        counter: Callable[[ProxyCounts], int],
        arm: Callable[[], None],
        disarm: Callable[[], None],
    ) -> tuple[float, int]:
        """Arms a proxy fault for its window (and on until it hit); its seconds and hits."""
        proxy = self.targets.proxy
        before = counter(proxy.counts())
        arm()
        seconds = self._armed(fault.duration_s, lambda: counter(proxy.counts()) - before)
        disarm()
        hits = counter(proxy.counts()) - before
        self._count(fault.kind, seconds, hits)
        return seconds, hits

    def _s3_refusals(self, fault: PlannedFault) -> str:
        proxy = self.targets.proxy
        seconds, refused = self._proxy_window(
            fault,
            lambda counts: counts.refused_503,
            lambda: proxy.refuse_for(ARMED_MAX_S),
            lambda: proxy.refuse_for(0),
        )
        return f"S3 answered 503 to {refused} requests in {seconds:.0f} s"

    def _s3_resets(self, fault: PlannedFault) -> str:
        proxy = self.targets.proxy
        fraction = RESET_FRACTION if fault.fraction is None else fault.fraction
        seconds, resets = self._proxy_window(
            fault,
            lambda counts: counts.resets,
            lambda: proxy.reset_fraction(fraction),
            lambda: proxy.reset_fraction(0.0),
        )
        return f"{resets} S3 connections reset mid-transfer in {seconds:.0f} s ({fraction:.0%})"

    def _kill_run_worker(self, fault: PlannedFault) -> str:
        server = self.targets.services.code_server_pid
        if server is None:
            raise RuntimeError("the code server is not running")
        started = time.monotonic()
        with open_instance(self.targets.home) as instance:
            while time.monotonic() - started < KILL_WAIT_S:
                killed = kill_a_run_worker(instance, server, self._rng)
                if killed is not None:
                    run_id, pid = killed
                    self._count(fault.kind, hits=1)
                    self._note(fault.kind, f"run {run_id} (pid {pid})")
                    with self._lock:
                        self.killed_runs.append(run_id)
                    return f"SIGKILL to the worker of run {run_id} (pid {pid})"
                if self._stop.wait(1.0):
                    break
        self._note(fault.kind, "not injected: no started run to kill")
        return "not injected: no started run to kill"

    def _restart_daemon(self, fault: PlannedFault) -> str:
        started = time.monotonic()
        self.targets.services.restart_daemon(pause_s=3.0)
        seconds = time.monotonic() - started
        self._count(fault.kind, seconds)
        return f"daemon stopped and started again ({seconds:.0f} s without a daemon)"

    def _fill_lts(self, fault: PlannedFault) -> str:
        lts = self.targets.lts
        if lts is None:
            note = f"not injected: {self.targets.lts_unavailable}"
            self._note(fault.kind, note)
            return note
        taken = lts.fill()
        try:
            seconds = self._window(fault.duration_s)
        finally:
            lts.drain()
        self._count(fault.kind, seconds)
        return f"LTS full for {seconds:.0f} s ({taken} bytes taken by a filler)"
