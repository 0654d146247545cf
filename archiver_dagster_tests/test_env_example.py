"""`.env.example` documents every variable the archiver reads, with its default."""

from pathlib import Path

from archiver_dagster.settings import SETTINGS, validate_environment

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def example_values() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}


def test_every_setting_is_documented_with_its_default():
    values = example_values()
    assert set(values) == {setting.name for setting in SETTINGS}
    for setting in SETTINGS:
        if setting.default is not None:
            assert values[setting.name] == setting.default, setting.name


def test_the_example_is_a_valid_configuration():
    assert validate_environment(example_values()) == []
