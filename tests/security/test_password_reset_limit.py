"""Password reset emails are capped per email address and per client address."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(SECMAIL_RESET_PER_ADDRESS=3, SECMAIL_RESET_PER_CLIENT=100)
def test_it_caps_reset_emails_per_address(client, personas) -> None:
    statuses = [
        client.post(
            "/accounts/password_reset/",
            {"email": personas.alice.email.upper() if i % 2 else personas.alice.email},
            REMOTE_ADDR=f"203.0.113.{i + 1}",
        ).status_code
        for i in range(25)
    ]
    assert len(mail.outbox) == 3
    assert statuses[:3] == [302, 302, 302]
    assert set(statuses[3:]) == {429}


@override_settings(SECMAIL_RESET_PER_ADDRESS=100, SECMAIL_RESET_PER_CLIENT=5)
def test_it_caps_reset_requests_per_client(client, personas) -> None:
    for _ in range(4):
        client.post("/accounts/password_reset/", {"email": personas.alice.email})
    response = client.post("/accounts/password_reset/", {"email": personas.bob.email})
    assert response.status_code == 302
    response = client.post("/accounts/password_reset/", {"email": personas.charlie.email})
    assert response.status_code == 429
    assert len(mail.outbox) == 5
    # Another client is not held back.
    other = client.post(
        "/accounts/password_reset/", {"email": personas.charlie.email}, REMOTE_ADDR="192.0.2.7"
    )
    assert other.status_code == 302
