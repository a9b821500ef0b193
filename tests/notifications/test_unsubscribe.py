"""The unsubscribe page: RFC 8058 one-click, a signed link, and subscribing again."""

from __future__ import annotations

import pytest
from django.test import Client

from monitoring.notifications.outbox import list_headers, unsubscribe_token
from partners.models import Contact
from tests.monitoring.factories import organization
from tests.notifications.conftest import SITE, contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def it():  # noqa: ANN201
    return contact(organization("Alpha Brokers", "alpha.example"), "it@alpha.example")


def _path(found: Contact) -> str:
    return f"/email/{unsubscribe_token(found)}/"


def test_it_names_the_signed_link_in_the_headers(it) -> None:
    headers = list_headers(it)
    assert headers["List-Unsubscribe"] == f"<{SITE}{_path(it)}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_unsubscribes_with_one_click_without_a_login_or_csrf_token(it) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(_path(it), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    it.refresh_from_db()
    assert it.digest == Contact.Digest.OFF


def test_it_changes_nothing_on_get(client, it) -> None:
    response = client.get(_path(it))
    assert response.status_code == 200
    assert b"Unsubscribe" in response.content
    it.refresh_from_db()
    assert it.digest == Contact.Digest.WEEKLY


def test_it_shows_the_page_in_the_contacts_language(client, it) -> None:
    Contact.objects.filter(pk=it.pk).update(language="fr-ca")
    response = client.get(_path(it))
    assert "Se désabonner" in response.content.decode()


def test_it_subscribes_again_from_the_page(client, it) -> None:
    client.post(_path(it), {"digest": "off"})
    it.refresh_from_db()
    assert it.digest == Contact.Digest.OFF
    assert "You are unsubscribed" in client.get(_path(it)).content.decode()
    response = client.post(_path(it), {"digest": "daily"})
    assert response.status_code == 302
    it.refresh_from_db()
    assert it.digest == Contact.Digest.DAILY


def test_it_refuses_an_unknown_frequency(client, it) -> None:
    assert client.post(_path(it), {"digest": "hourly"}).status_code == 400


def test_it_refuses_an_altered_link(client, it) -> None:
    token = unsubscribe_token(it)
    other = f"{it.pk + 1}:{token.partition(':')[2]}"
    assert client.post(f"/email/{other}/", {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get("/email/garbage/").status_code == 404
