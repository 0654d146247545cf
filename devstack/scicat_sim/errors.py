"""HTTP error answers of the simulated SciCat, shaped like the NestJS backend's."""

from http import HTTPStatus
from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    """An HTTP error answer: a status code and a message (or a list of validation messages)."""

    def __init__(self, status: int, message: str | list[str]) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        """Returns the JSON body NestJS sends for this error."""
        phrase = HTTPStatus(self.status).phrase
        body: dict[str, Any] = {"statusCode": self.status, "message": self.message}
        if self.message != phrase:
            body["error"] = phrase
        return body


def bad_request(error: ValidationError) -> ApiError:
    """Turns a pydantic validation error into a 400 naming each offending field."""
    messages = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            messages.append(f"property {field} should not exist")
        elif item["type"] == "missing":
            messages.append(f"{field} is required")
        elif field:
            messages.append(f"{field}: {item['msg']}")
        else:
            messages.append(item["msg"])
    return ApiError(HTTPStatus.BAD_REQUEST, messages)


def not_found(message: str) -> ApiError:
    """Returns a 404 error with the given message."""
    return ApiError(HTTPStatus.NOT_FOUND, message)


def unauthorized() -> ApiError:
    """Returns the 401 error of a missing, unknown or expired token."""
    return ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
