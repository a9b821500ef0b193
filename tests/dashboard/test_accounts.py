"""Tests for logging in (throttled by django-axes), password reset and the language switcher."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_it_lands_members_on_their_partners_after_login(client, personas) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": personas.bob.username, "password": personas.password},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/partners/"


def test_it_throttles_repeated_failures(client, personas) -> None:
    # The fifth failure for one account from one client starts its cool-off (django-axes).
    for _ in range(4):
        assert (
            client.post(
                "/accounts/login/", {"username": personas.alice.username, "password": "nope"}
            ).status_code
            == 200
        )
    assert (
        client.post(
            "/accounts/login/", {"username": personas.alice.username, "password": "nope"}
        ).status_code
        == 429
    )
    response = client.post(
        "/accounts/login/", {"username": personas.alice.username, "password": personas.password}
    )
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    # Another user from the same address is not locked out by alice's failures.
    response = client.post(
        "/accounts/login/", {"username": personas.bob.username, "password": personas.password}
    )
    assert response.status_code == 302


def test_it_resets_a_password_by_email(client, personas) -> None:
    page = client.get("/accounts/password_reset/")
    assert page.status_code == 200
    response = client.post("/accounts/password_reset/", {"email": personas.alice.email})
    assert response.status_code == 302
    [message] = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
        follow=True,
    )
    assert b"Password changed" in done.content
    assert client.login(username=personas.alice.username, password="a-new-long-passphrase")


def test_it_remembers_the_chosen_language(client, alice) -> None:
    client.force_login(alice)
    response = client.post("/i18n/setlang/", {"language": "fr-ca", "next": "/partners/"})
    assert response.status_code == 302
    page = client.get("/partners/").content.decode()
    assert '<html lang="fr-ca">' in page
    assert "Mes partenaires" in page


def test_it_renders_the_matrix_and_an_organization_in_french(client, world) -> None:
    client.force_login(world.personas.alice)
    headers = {"Accept-Language": "fr-CA"}
    matrix = client.get("/matrix/", headers=headers).content.decode()
    assert "Matrice des partenaires" in matrix
    assert "Partiel" in matrix
    organization = client.get("/orgs/alpha-brokers/", headers=headers).content.decode()
    assert "Historique" in organization
    assert "Vérifié" in organization
