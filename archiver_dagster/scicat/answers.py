"""Reading SciCat's answers into models, naming the endpoint and every field that is off."""

from typing import Any, TypeVar

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError

from archiver_dagster.errors import bounded_list
from archiver_dagster.scicat.errors import SciCatError

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe_validation_error(error: ValidationError, limit: int = 5) -> str:
    """`loc: message` of the first `limit` problems, e.g. `0._id: Field required`."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '(answer)'}: {item['msg']}"
        for item in error.errors()
    ]
    return bounded_list(problems, limit)


def _endpoint(response: requests.Response) -> str:
    return f"{response.request.method} {response.url}" if response.request else response.url


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise SciCatError(f"{_endpoint(response)} answered no JSON: {error}") from error


def parse_answer(model: type[ModelT], response: requests.Response) -> ModelT:
    """The answer as `model`; `SciCatError` naming the endpoint and each missing or bad field."""
    try:
        return model.model_validate(_json(response))
    except ValidationError as error:
        detail = describe_validation_error(error)
        raise SciCatError(f"unexpected answer from {_endpoint(response)}: {detail}") from error


def parse_list(model: type[ModelT], response: requests.Response) -> list[ModelT]:
    """The answer as a list of `model`; `SciCatError` naming the endpoint and the fields."""
    try:
        return TypeAdapter(list[model]).validate_python(_json(response))  # type: ignore[valid-type]
    except ValidationError as error:
        detail = describe_validation_error(error)
        raise SciCatError(f"unexpected answer from {_endpoint(response)}: {detail}") from error
