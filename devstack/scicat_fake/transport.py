"""A `requests` transport that hands a client's requests to the fake in process.

The archiver's `SciCatClient` runs unchanged on top of it: it builds the same requests, maps
the same statuses to the same errors and parses the same answers. Only the socket is gone, and
the waits: a transient answer the client's `Retry` would retry is retried at once, through that
same `Retry` object (its methods, statuses, counts, budget and retry notices), never slept on.
"""

import io
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import RetryError
from urllib3 import HTTPResponse
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from devstack.scicat_sim.recording import Fault
from devstack.scicat_sim.routes import ApiRequest, ApiResponse

Exchange = Callable[[ApiRequest], tuple[ApiResponse, Fault | None]]


def api_request(request: PreparedRequest) -> ApiRequest:
    """The request as the simulator's HTTP front would have read it off the wire."""
    parts = urlsplit(request.url or "")
    body = request.body or b""
    return ApiRequest(
        method=(request.method or "GET").upper(),
        raw_path=parts.path,
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        content_type=request.headers.get("Content-Type", ""),
        authorization=request.headers.get("Authorization", ""),
        body=body.encode("utf-8") if isinstance(body, str) else body,
    )


def raw_answer(answer: ApiResponse, fault: Fault | None) -> HTTPResponse:
    """The answer as urllib3 would have received it (status, headers, JSON body)."""
    payload = json.dumps(answer.payload).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(payload)),
    }
    if fault is not None and fault.retry_after_s is not None:
        headers["Retry-After"] = str(fault.retry_after_s)
    return HTTPResponse(
        body=io.BytesIO(payload),
        headers=headers,
        status=answer.status,
        reason=HTTPStatus(answer.status).phrase,
        preload_content=False,
        decode_content=False,
    )


class InProcessAdapter(HTTPAdapter):
    """Answers every request through `exchange`, retrying as the client's `Retry` says."""

    def __init__(self, exchange: Exchange, max_retries: Retry) -> None:
        super().__init__(max_retries=max_retries)
        self._exchange = exchange

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        """Answers the request; transient answers are retried at once while `Retry` allows."""
        call = api_request(request)
        retry = self.max_retries
        while True:
            answer, fault = self._exchange(call)
            raw = raw_answer(answer, fault)
            if not retry.is_retry(call.method, raw.status, "Retry-After" in raw.headers):
                break
            try:
                retry = retry.increment(call.method, request.url, response=raw)
            except MaxRetryError as error:
                if retry.raise_on_status:
                    raise RetryError(error, request=request) from error
                break  # retries spent: the last answer goes back, as urllib3 gives it
        return self.build_response(request, raw)
