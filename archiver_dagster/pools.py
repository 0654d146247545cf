"""Pool limits from configuration, applied to the Dagster instance idempotently.

`dagster.yaml` can only hold one default limit for all pools, so each pool's limit is instance
state that this step sets at stack, `make dev` and container start.
"""

import os
from collections.abc import Mapping

from dagster import DagsterInstance

from archiver_dagster.settings import SETTINGS_BY_NAME, parse_setting

POOL_SETTINGS: Mapping[str, str] = {
    "lts_free_space": "ARCHIVER_LTS_FREE_SPACE_LIMIT",
    "lts_write": "ARCHIVER_LTS_WRITE_LIMIT",
    "lts_read": "ARCHIVER_LTS_READ_LIMIT",
}


def configured_pool_limits(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """The limit of each pool from its variable (or its documented default)."""
    limits = {}
    for pool, variable in POOL_SETTINGS.items():
        raw = environ.get(variable, SETTINGS_BY_NAME[variable].default or "")
        limits[pool] = int(parse_setting(variable, raw))  # type: ignore[call-overload]
    return limits


def apply_pool_limits(instance: DagsterInstance, limits: Mapping[str, int]) -> dict[str, int]:
    """Sets each pool's limit on the instance (a no-op when already set); returns the limits."""
    storage = instance.event_log_storage
    for pool, limit in limits.items():
        if storage.get_concurrency_info(pool).slot_count != limit:
            storage.set_concurrency_slots(pool, limit)
    return dict(limits)
