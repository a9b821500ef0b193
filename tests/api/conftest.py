"""API fixtures: the dashboard's small industry, and a token per persona."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from monitoring.api import services
from tests.dashboard.conftest import world  # noqa: F401 - a pytest fixture


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Any:
    cache.clear()
    yield
    cache.clear()


class Caller:
    """A test client that sends a persona's API token (or none)."""

    def __init__(self, client: Any, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def get(self, path: str, **headers: Any) -> Any:
        if self.secret:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.secret}"
        return self.client.get("/api/v1" + path, **headers)


@pytest.fixture
def api_as(client: Any) -> Any:
    """api_as(user) -> Caller with a new token of that user; api_as(None): no token."""

    def make(user: Any) -> Caller:
        if user is None:
            return Caller(client, None)
        _token, secret = services.token_create(user=user, name="test")
        return Caller(client, secret)

    return make
