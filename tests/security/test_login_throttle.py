"""Every login form is throttled per account and client address, behind a declared proxy too."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


def _fail(client, path: str, username: str, **headers: str) -> int:
    return client.post(path, {"username": username, "password": WRONG}, **headers).status_code


def test_it_throttles_the_admin_login(client, personas) -> None:
    for _ in range(5):
        _fail(client, "/admin/login/", personas.staff.username)
    response = client.post(
        "/admin/login/", {"username": personas.staff.username, "password": personas.password}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_counts_failures_on_one_form_against_the_other(client, personas) -> None:
    for _ in range(5):
        _fail(client, "/admin/login/", personas.alice.username)
    response = client.post(
        "/accounts/login/", {"username": personas.alice.username, "password": personas.password}
    )
    assert response.status_code == 429


def test_it_does_not_lock_an_account_out_for_other_clients(client, personas) -> None:
    for _ in range(6):
        _fail(client, "/accounts/login/", personas.bob.username, REMOTE_ADDR="203.0.113.9")
    response = client.post(
        "/accounts/login/",
        {"username": personas.bob.username, "password": personas.password},
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 302


@override_settings(SECMAIL_TRUSTED_PROXIES=["10.0.0.2"])
def test_it_keys_on_the_forwarded_client_behind_a_declared_proxy(client, personas) -> None:
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(6):
        _fail(
            client,
            "/accounts/login/",
            personas.bob.username,
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            **proxy,
        )
    # bob, from his own address through the same proxy, still logs in.
    response = client.post(
        "/accounts/login/",
        {"username": personas.bob.username, "password": personas.password},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
        **proxy,
    )
    assert response.status_code == 302


def test_it_ignores_forwarded_for_from_an_undeclared_peer(rf) -> None:
    from secmail.security.client import client_address

    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_address(request) == "192.0.2.1"


@override_settings(SECMAIL_TRUSTED_PROXIES=["10.0.0.0/24"])
def test_it_reads_forwarded_for_from_the_right(rf) -> None:
    from secmail.security.client import client_address

    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.3"
    )
    assert client_address(request) == "203.0.113.9"


@override_settings(SECMAIL_LOGIN_FAILURES_PER_ADDRESS=30)
def test_it_pauses_an_address_that_sprays_many_accounts(client, personas) -> None:
    # One try each against 30 made-up accounts from one address: no account reaches its own
    # limit, but the address does, and is paused; bob elsewhere is untouched.
    for n in range(30):
        _fail(client, "/accounts/login/", f"nobody{n}@example.org", REMOTE_ADDR="203.0.113.7")
    response = client.post(
        "/accounts/login/",
        {"username": personas.bob.username, "password": personas.password},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 429
    response = client.post(
        "/accounts/login/",
        {"username": personas.bob.username, "password": personas.password},
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 302
