"""Checks that `make test` really ran on PostgreSQL and Redis (only with REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.services
@pytest.mark.django_db
def test_it_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.services
def test_it_reaches_redis() -> None:
    import redis

    url = os.environ.get("REDIS_URL")
    assert url, "REDIS_URL is not set"
    assert redis.Redis.from_url(url).ping() is True
