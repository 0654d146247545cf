"""Routing of SciCat REST requests (`/api/v3`, `/api/v4`) to the simulator's repositories."""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

from pydantic import BaseModel, ValidationError

from devstack.scicat_sim.auth import Authenticator
from devstack.scicat_sim.datasets import DatasetRepository
from devstack.scicat_sim.errors import ApiError, bad_request, not_found
from devstack.scicat_sim.job_models import (
    CreateJobV3Dto,
    CreateJobV4Dto,
    JobFilterV4,
    Limits,
    UpdateJobV3Dto,
    UpdateJobV4Dto,
)
from devstack.scicat_sim.job_views import (
    V3_DEFAULT_ORDER,
    V4_DEFAULT_ORDER,
    listed_v4,
    select,
    view_v3,
    view_v4,
)
from devstack.scicat_sim.jobs import JobRepository
from devstack.scicat_sim.models import (
    CreateDatablockDto,
    CreateDatasetDto,
    CreateOrigDatablockDto,
    LifecycleDto,
    LoginDto,
    UpdateDatasetDto,
)

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
_PREFIX = re.compile(r"^/api/(v3|v4)(/.*)$")
_SEG = "([^/]+)"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class ApiRequest:
    """An HTTP request as the API sees it: the raw (still percent-encoded) path and the body."""

    method: str
    raw_path: str
    query: dict[str, str]
    content_type: str
    authorization: str
    body: bytes


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP answer: status code and JSON payload."""

    status: int
    payload: Any


@dataclass(frozen=True)
class _Call:
    request: ApiRequest
    params: list[str]
    user: str
    version: str


_Endpoint = Callable[[_Call], ApiResponse]


@dataclass(frozen=True)
class _Route:
    method: str
    versions: str
    pattern: re.Pattern[str]
    endpoint: _Endpoint
    public: bool = False


def parse_body(model: type[M], request: ApiRequest) -> M:
    """Validates the body (JSON, or form-encoded for login) against a DTO; 400 if invalid."""
    try:
        if request.content_type.split(";")[0].strip().lower() == FORM:
            form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
            return model.model_validate(form)
        return model.model_validate_json(request.body or b"{}")
    except ValidationError as error:
        raise bad_request(error) from error


def _json_query(request: ApiRequest, name: str) -> Any:
    text = request.query.get(name)
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{name} is not valid JSON: {error}") from error


def _validated(model: type[M], value: Any, name: str) -> M:
    try:
        return model.model_validate(value if value is not None else {})
    except ValidationError as error:
        messages = [f"{'.'.join(map(str, (name, *e['loc'])))}: {e['msg']}" for e in error.errors()]
        raise ApiError(HTTPStatus.BAD_REQUEST, messages) from error


class SciCatApi:
    """Answers SciCat REST requests: authentication, routing, validation, error mapping."""

    def __init__(
        self,
        auth: Authenticator,
        datasets: DatasetRepository,
        jobs: JobRepository,
        jobs_apis: str = "v3v4",
    ) -> None:
        self._auth = auth
        self._datasets = datasets
        self._jobs = jobs
        ds = rf"/datasets/{_SEG}"
        # Routes and versions as in the backend's OpenAPI (scicat-sdk-py): login and the
        # (orig)datablocks of a dataset exist in v3 only; `jobs_apis` can switch off the v3 or
        # v4 jobs API, as deployments that serve only one of them do.
        table: list[tuple[str, str, str, _Endpoint]] = [
            ("POST", "v3", "/auth/login", self._login),
            ("POST", "v3v4", "/datasets", self._create_dataset),
            ("GET", "v3", "/datasets", self._list_datasets),
            ("GET", "v3v4", ds, lambda c: ApiResponse(200, datasets.get(c.params[0]))),
            ("PATCH", "v3v4", ds, self._update_dataset),
            ("PATCH", "v3v4", ds + "/datasetlifecycle", self._update_lifecycle),
            ("POST", "v3", ds + "/origdatablocks", self._add_origdatablock),
            ("GET", "v3", ds + "/origdatablocks", self._origdatablocks),
            ("POST", "v3", ds + "/datablocks", self._add_datablock),
            ("GET", "v3", ds + "/datablocks", self._datablocks),
            ("DELETE", "v3", ds + f"/datablocks/{_SEG}", self._delete_datablock),
            ("POST", "v3", "/jobs", self._create_job_v3),
            ("GET", "v3", "/jobs/fullquery", self._fullquery_v3),
            ("GET", "v3", f"/jobs/{_SEG}", lambda c: ApiResponse(200, view_v3(self._job(c)))),
            ("PATCH", "v3", f"/jobs/{_SEG}", self._update_job_v3),
            ("POST", "v4", "/jobs", self._create_job_v4),
            ("GET", "v4", "/jobs", self._list_jobs_v4),
            ("GET", "v4", f"/jobs/{_SEG}", lambda c: ApiResponse(200, listed_v4(self._job(c)))),
            ("PATCH", "v4", f"/jobs/{_SEG}", self._update_job_v4),
        ]
        self._routes = [
            _Route(
                method,
                versions,
                re.compile(f"^{path}/?$", re.IGNORECASE),
                endpoint,
                public=endpoint == self._login,
            )
            for method, versions, path, endpoint in table
            if not path.startswith("/jobs") or versions in jobs_apis
        ]

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answers one request; never raises."""
        try:
            return self._dispatch(request)
        except ApiError as error:
            return ApiResponse(error.status, error.body())
        except Exception:
            logger.exception("SciCat simulator failed on %s %s", request.method, request.raw_path)
            internal = ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")
            return ApiResponse(internal.status, internal.body())

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        prefix = _PREFIX.match(request.raw_path)
        if prefix is not None:
            version, rest = prefix.groups()
            for route in self._routes:
                match = route.pattern.match(rest)
                if match and route.method == request.method and version in route.versions:
                    user = "" if route.public else self._auth.user_for(request.authorization)
                    params = [unquote(group) for group in match.groups()]
                    return route.endpoint(_Call(request, params, user, version))
        raise not_found(f"Cannot {request.method} {unquote(request.raw_path)}")

    def _login(self, call: _Call) -> ApiResponse:
        return ApiResponse(201, self._auth.login(parse_body(LoginDto, call.request)))

    def _list_datasets(self, call: _Call) -> ApiResponse:
        query = _json_query(call.request, "filter") or {}
        if not isinstance(query, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "filter must be a JSON object")
        limits = _validated(Limits, query.get("limits"), "filter.limits")
        return ApiResponse(200, self._datasets.first(limits.skip, limits.limit))

    def _create_dataset(self, call: _Call) -> ApiResponse:
        dto = parse_body(CreateDatasetDto, call.request)
        return ApiResponse(201, self._datasets.create(dto, call.user, call.version))

    def _update_dataset(self, call: _Call) -> ApiResponse:
        dto = parse_body(UpdateDatasetDto, call.request)
        return ApiResponse(200, self._datasets.update(call.params[0], dto, call.user))

    def _update_lifecycle(self, call: _Call) -> ApiResponse:
        dto = parse_body(LifecycleDto, call.request)
        return ApiResponse(200, self._datasets.update_lifecycle(call.params[0], dto, call.user))

    def _add_origdatablock(self, call: _Call) -> ApiResponse:
        dto = parse_body(CreateOrigDatablockDto, call.request)
        return ApiResponse(201, self._datasets.add_origdatablock(call.params[0], dto, call.user))

    def _origdatablocks(self, call: _Call) -> ApiResponse:
        return ApiResponse(200, self._datasets.origdatablocks(call.params[0]))

    def _add_datablock(self, call: _Call) -> ApiResponse:
        dto = parse_body(CreateDatablockDto, call.request)
        return ApiResponse(201, self._datasets.add_datablock(call.params[0], dto, call.user))

    def _datablocks(self, call: _Call) -> ApiResponse:
        return ApiResponse(200, self._datasets.datablocks(call.params[0]))

    def _delete_datablock(self, call: _Call) -> ApiResponse:
        pid, block_id = call.params
        return ApiResponse(200, self._datasets.delete_datablock(pid, block_id))

    def _job(self, call: _Call) -> dict[str, Any]:
        return self._jobs.get(call.params[0])

    def _create_job_v3(self, call: _Call) -> ApiResponse:
        dto = parse_body(CreateJobV3Dto, call.request)
        return ApiResponse(201, view_v3(self._jobs.create_v3(dto, call.user)))

    def _update_job_v3(self, call: _Call) -> ApiResponse:
        dto = parse_body(UpdateJobV3Dto, call.request)
        return ApiResponse(200, view_v3(self._jobs.update_v3(call.params[0], dto, call.user)))

    def _fullquery_v3(self, call: _Call) -> ApiResponse:
        fields = _json_query(call.request, "fields") or {}
        if not isinstance(fields, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "fields must be a JSON object")
        limits = _validated(Limits, _json_query(call.request, "limits"), "limits")
        views = [view_v3(job) for job in self._jobs.all()]
        return ApiResponse(200, select(views, fields, limits, V3_DEFAULT_ORDER))

    def _create_job_v4(self, call: _Call) -> ApiResponse:
        dto = parse_body(CreateJobV4Dto, call.request)
        return ApiResponse(201, view_v4(self._jobs.create_v4(dto, call.user)))

    def _update_job_v4(self, call: _Call) -> ApiResponse:
        dto = parse_body(UpdateJobV4Dto, call.request)
        return ApiResponse(200, view_v4(self._jobs.update_v4(call.params[0], dto, call.user)))

    def _list_jobs_v4(self, call: _Call) -> ApiResponse:
        query = _validated(JobFilterV4, _json_query(call.request, "filter"), "filter")
        views = [listed_v4(job) for job in self._jobs.all()]
        page = select(views, query.where, query.limits, V4_DEFAULT_ORDER, query.fields)
        return ApiResponse(200, page)
