"""Tests for secmail/settings.py: it starts only with a safe, well-formed configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# Variables the settings read; cleared so the machine's environment cannot leak in.
SETTINGS_VARIABLES = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")


def load_settings(**variables: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, with `variables` as the only config."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env = {k: v for k, v in env.items() if not k.startswith(("SECMAIL_", "EMAIL_"))}
    env.update(variables, DJANGO_SETTINGS_MODULE="secmail.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_it_refuses_production_without_a_secret_key() -> None:
    result = load_settings(DEBUG="0", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_it_treats_unset_debug_as_production() -> None:
    result = load_settings(DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_starts_in_development_without_a_secret_key() -> None:
    result = load_settings(DEBUG="1", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_it_starts_in_production_with_a_secret_key() -> None:
    result = load_settings(DEBUG="false", SECRET_KEY="x" * 50, DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SECMAIL_SMTP_PORT", "twenty-five"),
        ("SECMAIL_DNS_RESOLVERS", "resolver.example"),
        ("SECMAIL_CONNECT_TIMEOUT", "-3"),
        ("DEBUG", "perhaps"),
    ],
)
def test_it_names_the_variable_and_value_it_cannot_use(variable: str, value: str) -> None:
    config = {"DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:", variable: value}
    result = load_settings(**config)
    assert result.returncode != 0
    assert variable in result.stderr
    assert value in result.stderr


def test_it_has_the_probe_settings_with_their_defaults() -> None:
    # The test environment sets none of them, so these are the documented defaults.
    assert settings.SECMAIL_SMTP_PORT == 25
    assert settings.SECMAIL_MTA_STS_PORT == 443
    assert settings.SECMAIL_CONNECT_TIMEOUT == 10
    assert settings.SECMAIL_PROBE_TIMEOUT == 30
    assert settings.SECMAIL_CYCLE_HOURS == 24
    assert settings.SECMAIL_KEEP_OBSERVATIONS_DAYS == 90
    assert settings.SECMAIL_CA_BUNDLE is None
    assert settings.SECMAIL_EHLO_NAME


def test_it_is_bilingual_and_in_toronto_time() -> None:
    assert [code for code, _ in settings.LANGUAGES] == ["en", "fr-ca"]
    assert settings.TIME_ZONE == "America/Toronto"
    assert settings.USE_TZ
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
