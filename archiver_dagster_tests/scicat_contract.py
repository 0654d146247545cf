"""The SciCat contract: every exchange with the simulator checked against the official SDK.

`scicat-sdk-py` is generated from the backend's OpenAPI. For each route the simulator answers,
the table below names the SDK model of the request body and of the successful answer. A
request body must validate and use only the model's fields (the real backend answers 400 to
unknown fields); an answer must validate and carry only fields the model describes, so neither
our client nor the simulator can drift from the real service without a red test.
"""

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from scicat_sdk_py import models as sdk

from devstack.scicat_sim.recording import RecordedRequest

Models = Sequence[type[BaseModel]]
_SEG = "[^/]+"
_DS = rf"/api/v3/datasets/{_SEG}"


@dataclass(frozen=True)
class Route:
    """One route of the backend's OpenAPI: its request body models and its answer model."""

    method: str
    pattern: str
    request: Models = ()
    answer: type[BaseModel] | None = None
    answer_is_list: bool = False

    def matches(self, exchange: RecordedRequest) -> bool:
        """Whether the exchange (raw, still percent-encoded path) is a call of this route."""
        path = exchange.raw_path.rstrip("/")
        return exchange.method == self.method and re.fullmatch(self.pattern, path, re.I) is not None


_CREATE_DATASET_V3: Models = (
    sdk.CreateRawDatasetObsoleteDto,
    sdk.CreateDerivedDatasetObsoleteDto,
    sdk.CreateDatasetDto,
)
_UPDATE_DATASET_V3: Models = (
    sdk.PartialUpdateRawDatasetObsoleteDto,
    sdk.PartialUpdateDerivedDatasetObsoleteDto,
    sdk.PartialUpdateDatasetDto,
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/api/v3/auth/login", (sdk.CredentialsDto,), sdk.ReturnedAuthLoginDto),
    Route("POST", "/api/v3/datasets", _CREATE_DATASET_V3, sdk.OutputDatasetObsoleteDto),
    Route("GET", "/api/v3/datasets", (), sdk.OutputDatasetObsoleteDto, answer_is_list=True),
    Route("GET", _DS, (), sdk.OutputDatasetObsoleteDto),
    Route("PATCH", _DS, _UPDATE_DATASET_V3, sdk.OutputDatasetObsoleteDto),
    Route(
        "PATCH",
        _DS + "/datasetlifecycle",
        (sdk.PartialUpdateDatasetLifecycleDto,),
        sdk.UpdateDatasetLifecycleDto,
    ),
    Route("POST", _DS + "/origdatablocks", (sdk.CreateDatasetOrigDatablockDto,), sdk.OrigDatablock),
    Route("GET", _DS + "/origdatablocks", (), sdk.OrigDatablock, answer_is_list=True),
    Route("POST", _DS + "/datablocks", (sdk.CreateDatasetDatablockDto,), sdk.Datablock),
    Route("GET", _DS + "/datablocks", (), sdk.Datablock, answer_is_list=True),
    Route("DELETE", _DS + f"/datablocks/{_SEG}"),  # the OpenAPI describes no answer
    Route("POST", "/api/v4/datasets", (sdk.CreateDatasetDto,), sdk.OutputDatasetDto),
    Route("GET", f"/api/v4/datasets/{_SEG}", (), sdk.OutputDatasetDto),
    Route(
        "PATCH", f"/api/v4/datasets/{_SEG}", (sdk.PartialUpdateDatasetDto,), sdk.OutputDatasetDto
    ),
    Route(
        "PATCH",
        f"/api/v4/datasets/{_SEG}/datasetlifecycle",
        (sdk.PartialUpdateDatasetLifecycleDto,),
        sdk.UpdateDatasetLifecycleDto,
    ),
    Route("POST", "/api/v3/jobs", (sdk.CreateJobDtoV3,), sdk.OutputJobV3Dto),
    Route("GET", "/api/v3/jobs/fullquery", (), sdk.OutputJobV3Dto, answer_is_list=True),
    Route("GET", f"/api/v3/jobs/{_SEG}", (), sdk.OutputJobV3Dto),
    Route("PATCH", f"/api/v3/jobs/{_SEG}", (sdk.UpdateJobDtoV3,), sdk.OutputJobV3Dto),
    Route("POST", "/api/v4/jobs", (sdk.CreateJobDto,), sdk.JobClass),
    Route("GET", "/api/v4/jobs", (), sdk.PartialOutputJobDto, answer_is_list=True),
    Route("GET", f"/api/v4/jobs/{_SEG}", (), sdk.PartialOutputJobDto),
    Route("PATCH", f"/api/v4/jobs/{_SEG}", (sdk.UpdateJobDto,), sdk.JobClass),
)


def sdk_fields(model: type[BaseModel]) -> set[str]:
    """The JSON field names of an SDK model (its OpenAPI properties)."""
    return {info.alias or name for name, info in model.model_fields.items()}


def _model_problem(model: type[BaseModel], value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{model.__name__}: not an object: {value!r:.80}"
    unknown = sorted(set(value) - sdk_fields(model))
    if unknown:
        return f"{model.__name__}: fields not in the OpenAPI: {unknown}"
    try:
        model.from_dict(value)  # type: ignore[attr-defined]
    except (ValidationError, ValueError) as error:
        return f"{model.__name__}: {error}"
    return None


def request_problem(route: Route, body: Any) -> str | None:
    """Why the request body fits none of the route's SDK models; None if one fits."""
    if not route.request:
        return None
    problems = [_model_problem(model, body) for model in route.request]
    return None if any(p is None for p in problems) else " | ".join(str(p) for p in problems)


def answer_problem(route: Route, answer: Any) -> str | None:
    """Why the answer does not fit the route's SDK model; None if it fits."""
    if route.answer is None:
        return None
    if not route.answer_is_list:
        return _model_problem(route.answer, answer)
    if not isinstance(answer, list):
        return f"expected a list of {route.answer.__name__}, got {type(answer).__name__}"
    for index, item in enumerate(answer):
        problem = _model_problem(route.answer, item)
        if problem:
            return f"item {index}: {problem}"
    return None


def exchange_problems(exchange: RecordedRequest) -> list[str]:
    """What in one successful exchange breaks the SDK's contract (empty if nothing)."""
    if not 200 <= exchange.status < 300 or exchange.rewritten:
        return []  # refusals and rewritten answers are checked by the tests that provoke them
    route = next((r for r in ROUTES if r.matches(exchange)), None)
    where = f"{exchange.method} {exchange.raw_path}"
    if route is None:
        return [f"{where}: answered {exchange.status} on a route the SDK does not describe"]
    problems = []
    if (problem := request_problem(route, exchange.body)) is not None:
        problems.append(f"{where}: request: {problem}")
    if (problem := answer_problem(route, exchange.response)) is not None:
        problems.append(f"{where}: answer: {problem}")
    return problems


@dataclass
class ContractChecker:
    """Collects the contract problems of every exchange observed; thread-safe."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, exchange: RecordedRequest) -> None:
        """Checks one exchange (called from the simulator's handler threads)."""
        found = exchange_problems(exchange)
        with self._lock:
            self.checked += 1
            self.problems.extend(found)

    def take(self) -> list[str]:
        """Returns the problems found since the last call, and forgets them."""
        with self._lock:
            found, self.problems = self.problems, []
            return found
