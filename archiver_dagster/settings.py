"""Every environment variable the archiver reads: name, default, validation and meaning.

Resources are wired to these variables with `dagster.EnvVar` (see `definitions.py`); this table
is the single place that knows their defaults and how to validate them, so that
`archiver-dagster check-config` and the resources report a bad value by the variable's name.
"""

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from dagster import EnvVar

from archiver_dagster.packing.checksums import SUPPORTED_ALGORITHMS


class ConfigurationError(ValueError):
    """An environment variable holds a value the archiver cannot use."""


def _positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError("must be a number greater than 0")
    return number


def _percentage(value: str) -> float:
    number = float(value)
    if not 0 <= number < 100:
        raise ValueError("must be a percentage in [0, 100)")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be an integer >= 0")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be an integer >= 1")
    return number


def _url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be a full URL starting with http:// or https://")
    return value.rstrip("/")


def _optional_url(value: str) -> str:
    return _url(value) if value else value


def _link_days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= 7:
        raise ValueError("must be 1 to 7 (days): S3 signatures are valid for at most 7 days")
    return days


def _on_off(value: str) -> str:
    if value not in ("on", "off"):
        raise ValueError("must be on or off")
    return value


def _api_prefix(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must start with '/', e.g. /api/v3")
    return value.rstrip("/")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _storage_prefix(value: str) -> str:
    stripped = value.strip("/")
    if not stripped or any(part in ("", ".", "..") for part in stripped.split("/")):
        raise ValueError("must be a relative path without '.', '..' or empty segments")
    return stripped


def _checksum_algorithm(value: str) -> str:
    if value not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"must be one of {', '.join(SUPPORTED_ALGORITHMS)}")
    return value


EXECUTOR_CHOICES = ("in_process", "multiprocess")


def _executor(value: str) -> str:
    if value not in EXECUTOR_CHOICES:
        raise ValueError(f"must be one of {', '.join(EXECUTOR_CHOICES)}")
    return value


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default (None = required), parser and description."""

    name: str
    default: str | None
    parse: Callable[[str], object]
    description: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("SCICAT_ENDPOINT", None, _url, "SciCat base URL, e.g. https://scicat.example.org"),
    Setting("SCICAT_API_PREFIX", "/api/v3", _api_prefix, "Prefix of dataset endpoints"),
    Setting("SCICAT_JOBS_API_PREFIX", "/api/v3", _api_prefix, "Prefix of job endpoints (v3/v4)"),
    Setting("SCICAT_USER", None, _non_empty, "SciCat functional account"),
    Setting("SCICAT_PASSWORD", None, _non_empty, "Password of SCICAT_USER", secret=True),
    Setting("SCICAT_TIMEOUT_S", "30", _positive_int, "Timeout of one SciCat HTTP request"),
    Setting("SCICAT_CALL_BUDGET_S", "25", _positive_int, "Longest retrying of one SciCat call"),
    Setting("ARCHIVER_TRANSIENT_FAULT_BUDGET_S", "600", _positive_int, "Retrying within a run"),
    Setting("S3_ENDPOINT", None, _url, "S3 endpoint the archiver uses (full URL)"),
    Setting("S3_ACCESS_KEY_ID", None, _non_empty, "S3 access key", secret=True),
    Setting("S3_SECRET_ACCESS_KEY", None, _non_empty, "S3 secret key", secret=True),
    Setting("S3_REGION", "eu-west-1", _non_empty, "S3 region"),
    Setting("S3_LANDINGZONE_BUCKET", "landingzone", _non_empty, "Bucket the ingestor fills"),
    Setting("S3_RETRIEVAL_BUCKET", "retrieval", _non_empty, "Bucket for retrieved datasets"),
    Setting("S3_EXTERNAL_ENDPOINT", "", _optional_url, "S3 URL users reach for downloads"),
    Setting("S3_URL_EXPIRATION_DAYS", "7", _link_days, "Validity of download links"),
    Setting("LTS_STORAGE_ROOT", None, _non_empty, "Mount point of the long-term storage share"),
    Setting("LTS_FREE_SPACE_PERCENTAGE", "20", _percentage, "Free space kept on the LTS (%)"),
    Setting("ARCHIVER_STORAGE_PREFIX", "openem-network", _storage_prefix, "Key/path prefix"),
    Setting("ARCHIVER_SCRATCH_FOLDER", "", str, "Local folder for packing (empty: on the LTS)"),
    Setting("ARCHIVER_TARGET_SIZE_GB", "200", _positive_float, "Max unpacked GB per datablock"),
    Setting("ARCHIVER_CHECKSUM_ALG", "md5", _checksum_algorithm, "Checksum algorithm (chkAlg)"),
    Setting("ARCHIVER_SCRATCH_DATABLOCKS", "2", _positive_int, "Tars of a dataset on scratch"),
    Setting("ARCHIVER_LTS_FILE_TIMEOUT_S", "600", _non_negative_int, "Wait for LTS readability"),
    Setting("ARCHIVER_LTS_WAIT_BEFORE_VERIFY_S", "180", _non_negative_int, "Settle time"),
    Setting("ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S", "86400", _non_negative_int, "Free-space wait"),
    Setting("ARCHIVER_LTS_READ_RETRY_DELAY_S", "60", _positive_int, "First read-back retry"),
    Setting("ARCHIVER_DOWNLOAD_CONCURRENCY", "8", _positive_int, "Parallel landing-zone requests"),
    Setting("ARCHIVER_SENSOR_INTERVAL_S", "30", _positive_int, "SciCat job polling interval"),
    Setting("ARCHIVER_CLEANUPS_PER_TICK", "10", _positive_int, "Failed runs cleaned per tick"),
    Setting("ARCHIVER_RUNS_PER_TICK", "10", _positive_int, "Runs requested per intake tick"),
    Setting("ARCHIVER_MAX_RUN_SECONDS", "259200", _positive_int, "Longest run of one dataset"),
    Setting("ARCHIVER_RETRY_FIRST_S", "30", _positive_float, "First retry of a failed cleanup"),
    Setting("ARCHIVER_EXECUTOR", "in_process", _executor, "Step executor of archive/retrieve runs"),
    Setting("ARCHIVER_JOB_SUBMITTED_STATUS", "jobSubmitted", _non_empty, "Status of new jobs"),
    Setting("ARCHIVER_LTS_WRITE_LIMIT", "2", _positive_int, "Pool lts_write limit"),
    Setting("ARCHIVER_LTS_READ_LIMIT", "2", _positive_int, "Pool lts_read limit"),
    Setting("ARCHIVER_LTS_FREE_SPACE_LIMIT", "1", _positive_int, "Pool lts_free_space limit"),
    Setting("ARCHIVER_AUDIT_SCHEDULE", "on", _on_off, "Nightly fixity audit schedule on/off"),
    Setting("ARCHIVER_AUDIT_PERIOD_DAYS", "90", _positive_int, "Each copy re-read once per"),
    Setting("ARCHIVER_AUDIT_BYTES_PER_RUN", "1000000000000", _positive_int, "Audit bytes a night"),
    Setting("ARCHIVER_ALERT_WEBHOOK_URL", "", _optional_url, "Alerts webhook (JSON)", secret=True),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}


def parse_setting(name: str, value: str) -> object:
    """Parses `value` for the variable `name`, raising `ConfigurationError` naming the variable."""
    setting = SETTINGS_BY_NAME[name]
    try:
        return setting.parse(value)
    except ValueError as error:
        shown = "<hidden>" if setting.secret else repr(value)
        raise ConfigurationError(f"{name}={shown}: {error}") from None


def documented_default(name: str) -> str:
    """The default of an optional variable, for the resource field it configures."""
    default = SETTINGS_BY_NAME[name].default
    if default is None:
        raise KeyError(f"{name} is required: it has no default")
    return default


def env_setting(name: str) -> str:
    """Wires a resource field to `name`: an `EnvVar` when set, else the documented default.

    The value itself is resolved by Dagster at run time; only whether the variable exists is
    looked at here, so that optional settings have defaults (an `EnvVar` has none).
    """
    setting = SETTINGS_BY_NAME[name]
    if name in os.environ or setting.default is None:
        return EnvVar(name)
    return setting.default


def env_int_setting(name: str) -> int:
    """Like `env_setting` for integer fields (`EnvVar.int` when set, else the default)."""
    setting = SETTINGS_BY_NAME[name]
    if name in os.environ or setting.default is None:
        return EnvVar.int(name)
    return int(setting.default)


def definition_time_setting(name: str) -> str:
    """A setting needed when definitions load (e.g. the executor), validated at load."""
    value = os.environ.get(name, SETTINGS_BY_NAME[name].default or "")
    parse_setting(name, value)
    return value


def packs_on_scratch() -> bool:
    """Whether ARCHIVER_SCRATCH_FOLDER names a folder: it decides the archival chain at load."""
    return bool(definition_time_setting("ARCHIVER_SCRATCH_FOLDER").strip())


def definition_time_int(name: str) -> int:
    """An integer setting needed when definitions load (e.g. a sensor's interval).

    Read from the environment at load; an invalid value fails the load naming the variable.
    """
    return int(definition_time_setting(name))


def validate_environment(environ: Mapping[str, str]) -> list[str]:
    """Returns one message per missing or invalid variable (empty when all is well)."""
    problems = []
    for setting in SETTINGS:
        value = environ.get(setting.name, setting.default)
        if value is None:
            problems.append(f"{setting.name} is not set: {setting.description}")
            continue
        try:
            parse_setting(setting.name, value)
        except ConfigurationError as error:
            problems.append(str(error))
    return problems
