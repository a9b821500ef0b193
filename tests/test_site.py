"""Tests for what every page shares: login and logout, base template, languages."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_users_to_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_the_login_page(client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_it_puts_the_csrf_token_in_htmx_headers_and_serves_htmx_locally(client, staff) -> None:
    client.force_login(staff)
    response = client.get("/registry/import/")
    assert b'hx-headers=\'{"X-CSRFToken": "' in response.content
    assert b'src="/static/vendor/htmx-2.' in response.content
    # Every script and stylesheet comes from this site. (A search for "cdn" in the whole page
    # once failed at random: the CSRF token and CSP nonce are random letters.)
    loaded = re.findall(rb'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"', response.content)
    assert loaded
    for url in loaded:
        assert url == b"data:," or (url.startswith(b"/") and not url.startswith(b"//")), url


def test_it_speaks_canadian_french(client, staff) -> None:
    client.force_login(staff)
    response = client.get("/registry/import/", headers={"Accept-Language": "fr-CA"})
    assert b'<html lang="fr-ca">' in response.content


def test_it_logs_out_with_a_post(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
