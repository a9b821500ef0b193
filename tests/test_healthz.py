"""Tests for /healthz, the endpoint container health checks call."""

from __future__ import annotations

import pytest
from django.db import DatabaseError


@pytest.mark.django_db
def test_it_answers_ok_without_login(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_it_answers_503_when_the_database_fails(client, monkeypatch) -> None:
    from secmail import views

    class BrokenConnection:
        def cursor(self) -> None:
            raise DatabaseError("down")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    assert client.get("/healthz").status_code == 503
