"""Milliseconds per Dagster storage call on PostgreSQL: dagster-postgres' storage vs pooled.

`python -m devstack.bench.storage_calls [--calls 300] [--rounds 3]` starts a throwaway
PostgreSQL 15 (`devstack.postgres`), opens one instance on dagster-postgres' own storage and
one on the archiver's `PooledPostgresStorage` (deploy/dagster.yaml), each on a database of its
own, and times the same read calls on each (run records, dynamic partitions, sensor states),
the two interleaved round by round. It prints the median wall and client CPU milliseconds per
call; the server's work (a backend started and a SCRAM exchange per connection) is in the wall
time only.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from dagster import DagsterInstance

from devstack.console import say
from devstack.demo import open_instance
from devstack.postgres import PostgresServer

STORAGES = ("dagster-postgres", "pooled")


@contextmanager
def _instance(server: PostgresServer, storage: str, root: Path) -> Iterator[DagsterInstance]:
    with server.database() as database:
        if storage == "pooled":
            section = server.dagster_storage(database)
        else:
            section = {"postgres": {"postgres_db": server.postgres_db(database)}}
        home = root / storage
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": section}))
        with open_instance(home) as instance:
            instance.add_dynamic_partitions("datasets", [f"p{index}" for index in range(100)])
            yield instance


def _per_call_ms(instance: DagsterInstance, calls: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per call over `calls` calls, cycling three kinds of call."""
    kinds = (
        lambda: instance.get_run_records(limit=10),
        lambda: instance.get_dynamic_partitions("datasets"),
        lambda: instance.all_instigator_state(),
    )
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(calls):
        kinds[index % len(kinds)]()
    return (
        (time.perf_counter() - wall) * 1000 / calls,
        (time.process_time() - cpu) * 1000 / calls,
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the comparison and prints one line per storage."""
    parser = argparse.ArgumentParser(prog="python -m devstack.bench.storage_calls")
    parser.add_argument("--calls", type=int, default=300, help="calls per storage and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args(argv)
    figures: dict[str, list[tuple[float, float]]] = {storage: [] for storage in STORAGES}
    with tempfile.TemporaryDirectory() as root, PostgresServer() as server:
        for round_index in range(args.rounds):
            for storage in STORAGES:
                with _instance(server, storage, Path(root) / f"r{round_index}") as instance:
                    _per_call_ms(instance, 3)  # warm: the first call of each kind
                    figures[storage].append(_per_call_ms(instance, args.calls))
    for storage, rounds in figures.items():
        wall = statistics.median(wall for wall, _ in rounds)
        cpu = statistics.median(cpu for _, cpu in rounds)
        say(f"{storage:>16}: {wall:6.2f} ms wall, {cpu:6.2f} ms client CPU per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
