"""Tests for API tokens: authentication, revocation, deactivated users, the page, the command."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from monitoring.api import services
from monitoring.api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_it_answers_401_without_a_token(api_as, world) -> None:
    response = api_as(None).get("/organizations")
    assert response.status_code == 401


def test_it_answers_401_for_an_unknown_token(client, world) -> None:
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION="Bearer secmail_nope")
    assert response.status_code == 401


def test_it_stores_only_a_hash_and_marks_last_use(alice, client) -> None:
    token, secret = services.token_create(user=alice, name="gateway")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.token_hash, token.prefix, token.name}
    assert token.last_used is None
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


def test_it_refuses_a_revoked_token(alice, client) -> None:
    token, secret = services.token_create(user=alice, name="gateway")
    assert services.token_revoke(user=alice, token_id=token.pk)
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


def test_it_refuses_tokens_of_a_deactivated_user(alice, client) -> None:
    _token, secret = services.token_create(user=alice, name="gateway")
    alice.is_active = False
    alice.save()
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


@override_settings(SECMAIL_API_RATE_PER_MINUTE=3)
def test_it_answers_429_with_retry_after_past_the_rate(api_as, alice) -> None:
    caller = api_as(alice)
    assert [caller.get("/organizations").status_code for _ in range(3)] == [200] * 3
    response = caller.get("/organizations")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another token of the same user has its own budget.
    assert api_as(alice).get("/organizations").status_code == 200


def test_it_redirects_anonymous_users_from_the_token_page(client) -> None:
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_creates_a_token_in_the_page_and_shows_it_once(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/account/tokens/", {"name": "mail gateway"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith(services.TOKEN_PREFIX)
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=alice)
    assert token.name == "mail gateway"
    assert token.token_hash == services.token_hash(secret)
    listing = client.get("/account/tokens/").content.decode()
    assert "mail gateway" in listing
    assert secret not in listing


def test_it_revokes_own_tokens_only(client, alice, bob) -> None:
    token, _secret = services.token_create(user=alice, name="gateway")
    client.force_login(bob)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    client.force_login(alice)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked is not None


def test_it_creates_a_token_from_the_command_line(alice, client) -> None:
    out = StringIO()
    call_command(
        "api_token", "create", alice.username, "--name", "cron", stdout=out, stderr=StringIO()
    )
    secret = out.getvalue().strip()
    assert ApiToken.objects.get(user=alice).name == "cron"
    response = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
