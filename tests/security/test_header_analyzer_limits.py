"""The header analyzer takes at most 256 KiB per paste and a few pastes per user per minute."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from monitoring.headers.parser import MAX_INPUT_CHARS

pytestmark = pytest.mark.django_db

SAMPLE = (
    "Received: from mx.sender.example (mx.sender.example [192.0.2.1])\n"
    "  by mx.receiver.example with ESMTPS id abc; Mon, 2 Nov 2026 10:00:00 +0000\n"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_caps_the_input_at_256_kib(client, personas) -> None:
    assert MAX_INPUT_CHARS == 256 * 1024
    client.force_login(personas.bob)
    padding = "X-Padding: " + "x" * (256 * 1024) + "\n"
    response = client.post("/headers/", {"headers": SAMPLE + padding})
    assert response.status_code == 200
    assert b'table class="hops' not in response.content
    assert "x" * 100_000 not in response.content.decode()
    accepted = client.post("/headers/", {"headers": SAMPLE})
    assert b"mx.sender.example" in accepted.content


@override_settings(SECMAIL_HEADERS_PER_MINUTE=3)
def test_it_rate_limits_each_user(client, personas) -> None:
    client.force_login(personas.bob)
    statuses = [client.post("/headers/", {"headers": SAMPLE}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    # Another user is not held back by bob's pastes.
    client.force_login(personas.charlie)
    assert client.post("/headers/", {"headers": SAMPLE}).status_code == 200
