"""The environment-variable table: validation messages, defaults, EnvVar wiring and check-config."""

import pytest
from dagster import EnvVar

from archiver_dagster.cli import main
from archiver_dagster.settings import (
    SETTINGS,
    SETTINGS_BY_NAME,
    ConfigurationError,
    definition_time_int,
    env_int_setting,
    env_setting,
    packs_on_scratch,
    parse_setting,
    validate_environment,
)

REQUIRED = (
    "SCICAT_ENDPOINT",
    "SCICAT_USER",
    "SCICAT_PASSWORD",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "LTS_STORAGE_ROOT",
)
SECRETS = {
    "SCICAT_PASSWORD": "pw-Zx81-scicat",
    "S3_ACCESS_KEY_ID": "AKIA-q7-access",
    "S3_SECRET_ACCESS_KEY": "s3cr3t-Kp2-key",
}
VALID = {
    "SCICAT_ENDPOINT": "https://scicat.example.org",
    "SCICAT_USER": "archiveManager",
    "S3_ENDPOINT": "https://s3.example.org",
    "LTS_STORAGE_ROOT": "/mnt/lts",
    **SECRETS,
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No archiver variable set (the session stack may have set them)."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    return monkeypatch


def test_required_variables_are_exactly_those_without_default() -> None:
    assert {setting.name for setting in SETTINGS if setting.default is None} == set(REQUIRED)
    optional_secrets = {"ARCHIVER_ALERT_WEBHOOK_URL"}  # a webhook's URL holds its token
    assert {setting.name for setting in SETTINGS if setting.secret} == set(SECRETS) | (
        optional_secrets
    )


def test_every_default_is_valid() -> None:
    for setting in SETTINGS:
        if setting.default is not None:
            parse_setting(setting.name, setting.default)


def test_required_plus_defaults_is_a_valid_environment() -> None:
    assert validate_environment(VALID) == []


def test_every_missing_required_variable_is_reported_by_name() -> None:
    problems = validate_environment({})
    assert len(problems) == len(REQUIRED)
    for name, problem in zip(REQUIRED, problems, strict=True):
        assert problem.startswith(f"{name} is not set: ")
        assert SETTINGS_BY_NAME[name].description in problem


def test_one_missing_variable_is_the_only_problem() -> None:
    environ = {key: value for key, value in VALID.items() if key != "LTS_STORAGE_ROOT"}
    assert validate_environment(environ) == [
        "LTS_STORAGE_ROOT is not set: Mount point of the long-term storage share"
    ]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("ARCHIVER_TARGET_SIZE_GB", "abc", "could not convert string to float"),
        ("ARCHIVER_TARGET_SIZE_GB", "0", "must be a number greater than 0"),
        ("ARCHIVER_TARGET_SIZE_GB", "-2.5", "must be a number greater than 0"),
        ("ARCHIVER_TARGET_SIZE_GB", "nan", "must be a number greater than 0"),
        ("ARCHIVER_TARGET_SIZE_GB", "inf", "must be a number greater than 0"),
        ("LTS_FREE_SPACE_PERCENTAGE", "100", "must be a percentage in [0, 100)"),
        ("LTS_FREE_SPACE_PERCENTAGE", "-0.5", "must be a percentage in [0, 100)"),
        ("LTS_FREE_SPACE_PERCENTAGE", "nan", "must be a percentage in [0, 100)"),
        ("LTS_FREE_SPACE_PERCENTAGE", "twenty", "could not convert string to float"),
        ("SCICAT_TIMEOUT_S", "0", "must be an integer >= 1"),
        ("SCICAT_TIMEOUT_S", "1.5", "invalid literal for int()"),
        ("ARCHIVER_LTS_FILE_TIMEOUT_S", "-1", "must be an integer >= 0"),
        ("ARCHIVER_DOWNLOAD_CONCURRENCY", "eight", "invalid literal for int()"),
        ("SCICAT_ENDPOINT", "scicat.example.org", "must be a full URL"),
        ("S3_ENDPOINT", "ftp://s3.example.org", "must be a full URL"),
        ("SCICAT_API_PREFIX", "api/v3", "must start with '/'"),
        ("SCICAT_JOBS_API_PREFIX", "v4", "must start with '/'"),
        ("ARCHIVER_STORAGE_PREFIX", "a/../b", "without '.', '..' or empty segments"),
        ("ARCHIVER_STORAGE_PREFIX", "a//b", "without '.', '..' or empty segments"),
        ("ARCHIVER_STORAGE_PREFIX", "./a", "without '.', '..' or empty segments"),
        ("ARCHIVER_STORAGE_PREFIX", "///", "without '.', '..' or empty segments"),
        ("ARCHIVER_CHECKSUM_ALG", "crc32", "must be one of md5, sha1, sha256, sha512, blake2b"),
        ("SCICAT_USER", "   ", "must not be empty"),
    ],
)
def test_invalid_value_is_named_with_variable_and_value(name: str, value: str, reason: str) -> None:
    problems = validate_environment({**VALID, name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}={value!r}: ")
    assert reason in problems[0]
    with pytest.raises(ConfigurationError, match=f"^{name}="):
        parse_setting(name, value)


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("SCICAT_ENDPOINT", "https://scicat.example.org/", "https://scicat.example.org"),
        ("SCICAT_API_PREFIX", "/api/v4/", "/api/v4"),
        ("ARCHIVER_STORAGE_PREFIX", "/openem-network/", "openem-network"),
        ("ARCHIVER_STORAGE_PREFIX", "site/openem", "site/openem"),
        ("LTS_FREE_SPACE_PERCENTAGE", "0", 0.0),
        ("LTS_FREE_SPACE_PERCENTAGE", "99.999", 99.999),
        ("ARCHIVER_TARGET_SIZE_GB", "0.004", 0.004),
        ("ARCHIVER_LTS_WAIT_BEFORE_VERIFY_S", "0", 0),
        ("ARCHIVER_CHECKSUM_ALG", "sha256", "sha256"),
        ("S3_EXTERNAL_ENDPOINT", "", ""),
    ],
)
def test_parse_setting_returns_the_parsed_value(name: str, value: str, parsed: object) -> None:
    assert parse_setting(name, value) == parsed


def test_parse_setting_of_unknown_variable_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        parse_setting("NOT_AN_ARCHIVER_SETTING", "x")


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="SCICAT_TIMEOUT_S"):
        parse_setting("SCICAT_TIMEOUT_S", "x")


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_invalid_secret_value_is_hidden(name: str) -> None:
    value = " \t "
    problems = validate_environment({**VALID, name: value})
    assert problems == [f"{name}=<hidden>: must not be empty"]
    with pytest.raises(ConfigurationError) as info:
        parse_setting(name, value)
    assert str(info.value) == f"{name}=<hidden>: must not be empty"


def test_secrets_never_appear_in_problems_of_other_variables() -> None:
    broken = {name: "!" for name in VALID if name not in SECRETS}
    broken |= {"SCICAT_TIMEOUT_S": "soon", "ARCHIVER_CHECKSUM_ALG": "xor"}
    problems = validate_environment({**VALID, **broken})
    assert len(problems) == 4  # two URLs, the timeout, the algorithm
    text = "\n".join(problems)
    for secret in SECRETS.values():
        assert secret not in text


def test_env_setting_is_env_var_when_set(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("S3_REGION", "us-east-1")
    value = env_setting("S3_REGION")
    assert isinstance(value, EnvVar)
    assert value.env_var_name == "S3_REGION"


def test_env_setting_is_default_when_unset(clean_env: pytest.MonkeyPatch) -> None:
    value = env_setting("S3_REGION")
    assert value == "eu-west-1"
    assert not isinstance(value, EnvVar)


def test_env_setting_of_required_variable_is_env_var_even_when_unset(
    clean_env: pytest.MonkeyPatch,
) -> None:
    value = env_setting("SCICAT_ENDPOINT")
    assert isinstance(value, EnvVar)
    assert value.env_var_name == "SCICAT_ENDPOINT"


def test_env_int_setting_is_int_env_var_when_set(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SCICAT_TIMEOUT_S", "12")
    value = env_int_setting("SCICAT_TIMEOUT_S")
    assert type(value).__name__ == "IntEnvVar"
    assert value.env_var_name == "SCICAT_TIMEOUT_S"  # type: ignore[attr-defined]
    assert value.get_value() == 12  # type: ignore[attr-defined]


def test_env_int_setting_is_int_default_when_unset(clean_env: pytest.MonkeyPatch) -> None:
    value = env_int_setting("ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S")
    assert value == 86400
    assert type(value) is int


def test_definition_time_int_reads_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    assert definition_time_int("ARCHIVER_SENSOR_INTERVAL_S") == 30
    clean_env.setenv("ARCHIVER_SENSOR_INTERVAL_S", "5")
    assert definition_time_int("ARCHIVER_SENSOR_INTERVAL_S") == 5


@pytest.mark.parametrize("value", ["0", "soon", ""])
def test_definition_time_int_names_an_invalid_variable(
    clean_env: pytest.MonkeyPatch, value: str
) -> None:
    clean_env.setenv("ARCHIVER_SENSOR_INTERVAL_S", value)
    with pytest.raises(ConfigurationError, match=f"^ARCHIVER_SENSOR_INTERVAL_S={value!r}: "):
        definition_time_int("ARCHIVER_SENSOR_INTERVAL_S")


def test_check_config_ok(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    for name, value in VALID.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert out == "configuration OK\n"
    assert err == ""


def test_check_config_reports_every_problem(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for name, value in VALID.items():
        if name not in ("SCICAT_ENDPOINT", "S3_SECRET_ACCESS_KEY"):
            clean_env.setenv(name, value)
    clean_env.setenv("LTS_FREE_SPACE_PERCENTAGE", "150")
    assert main(["check-config"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("configuration error: ") for line in lines)
    assert "SCICAT_ENDPOINT is not set" in err
    assert "S3_SECRET_ACCESS_KEY is not set" in err
    assert "LTS_FREE_SPACE_PERCENTAGE='150': must be a percentage in [0, 100)" in err
    for secret in SECRETS.values():
        assert secret not in err


def test_check_config_with_empty_environment_fails(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert main(["check-config"]) == 1
    _, err = capsys.readouterr()
    assert len(err.splitlines()) == len(REQUIRED)


def test_cli_without_command_exits_with_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage: archiver-dagster" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "on_scratch"), [("/scratch", True), ("", False), ("  ", False)])
def test_the_scratch_folder_decides_the_packing_chain_at_load(
    clean_env: pytest.MonkeyPatch, value: str, on_scratch: bool
) -> None:
    assert not packs_on_scratch()  # unset: no scratch
    clean_env.setenv("ARCHIVER_SCRATCH_FOLDER", value)
    assert packs_on_scratch() is on_scratch
