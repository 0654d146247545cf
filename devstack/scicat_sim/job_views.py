"""Rendering of stored jobs as v3 or v4 answers, and filtering, ordering and paging of lists."""

from http import HTTPStatus
from typing import Any

from devstack.scicat_sim.errors import ApiError
from devstack.scicat_sim.job_models import Limits
from devstack.scicat_sim.store import Record

V3_DEFAULT_ORDER = "creationTime:asc"
V4_DEFAULT_ORDER = "createdAt:asc"


def view_v4(job: Record) -> Record:
    """Returns the v4 view of a stored job (jobs are stored in their v4 shape)."""
    return dict(job)


def listed_v4(job: Record) -> Record:
    """The v4 view of a job as `GET /jobs` and `GET /jobs/{id}` answer it.

    The backend's OpenAPI (SDK `PartialOutputJobDto`) requires `datasets` and `datasetDetails`
    there; they are filled only when jobs are joined with their datasets, so they are empty.
    """
    view = {k: v for k, v in job.items() if k not in ("accessGroups", "isPublished")}
    return view | {"datasets": [], "datasetDetails": []}


def view_v3(job: Record) -> Record:
    """Returns the v3 view of a stored job, mapped as the backend's v3 compatibility layer does.

    Its fields are exactly those of the OpenAPI's `OutputJobV3Dto`.
    """
    params = dict(job["jobParams"])
    dataset_list = params.pop("datasetList", [])
    execution_time = params.pop("executionTime", None)
    view: Record = {
        "id": job["id"],
        "type": job["type"],
        "creationTime": job["createdAt"],
        "jobStatusMessage": job["statusCode"],
        "datasetList": dataset_list,
        "jobParams": params,
        "jobResultObject": job["jobResultObject"],
        "emailJobInitiator": job.get("contactEmail"),
    }
    if execution_time is not None:
        view["executionTime"] = execution_time
    return view


def _lookup(record: Record, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _matches(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        return all(_operator(value, op, operand) for op, operand in condition.items())
    return bool(value == condition)


def _operator(value: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(value == operand)
    if op == "$ne":
        return bool(value != operand)
    if op in ("$in", "$nin") and isinstance(operand, list):
        return (value in operand) == (op == "$in")
    raise ApiError(HTTPStatus.BAD_REQUEST, f"Unsupported filter operator {op}")


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def _parse_order(order: str) -> list[tuple[str, bool]]:
    keys = []
    for item in order.split(","):
        name, _, direction = item.strip().partition(":")
        direction = direction.lower() or "asc"
        if not name or direction not in ("asc", "desc"):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid order {order!r}")
        keys.append((name, direction == "desc"))
    return keys


def select(
    views: list[Record],
    where: Record,
    limits: Limits,
    default_order: str,
    fields: list[str] | None = None,
) -> list[Record]:
    """Filters (exact match or `$eq/$ne/$in/$nin`, dotted names), orders, pages and projects."""
    chosen = [v for v in views if all(_matches(_lookup(v, k), c) for k, c in where.items())]
    for name, descending in reversed(_parse_order(limits.order or default_order)):
        chosen.sort(key=lambda view: _sort_key(_lookup(view, name)), reverse=descending)
    page = chosen[limits.skip : limits.skip + limits.limit]
    if fields:
        page = [{k: v[k] for k in fields if k in v} for v in page]
    return page
