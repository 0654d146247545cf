"""The retry schedule of failed cleanups and job updates, and its first delay setting."""

import random

import pytest

from archiver_dagster.automation.backoff import MAX_RETRY_S, retry_delay
from archiver_dagster.settings import ConfigurationError


def test_first_delay_is_30_s_doubling_up_to_an_hour(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ARCHIVER_RETRY_FIRST_S", raising=False)
    rng = random.Random(1)
    delays = [retry_delay(attempts, rng) for attempts in (1, 2, 3, 20)]
    for delay, base in zip(delays, (30, 60, 120, MAX_RETRY_S), strict=True):
        assert 0.8 * base <= delay <= 1.2 * base


def test_first_delay_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ARCHIVER_RETRY_FIRST_S", "2")
    assert 1.6 <= retry_delay(1) <= 2.4
    assert 3.2 <= retry_delay(2) <= 4.8


def test_an_invalid_first_delay_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ARCHIVER_RETRY_FIRST_S", "0")
    with pytest.raises(ConfigurationError, match="ARCHIVER_RETRY_FIRST_S"):
        retry_delay(1)
