"""An unsubscribe link works only while the contact still has the address it was mailed to."""

from __future__ import annotations

import pytest
from django.core import signing

from monitoring.notifications.outbox import UNSUBSCRIBE_SALT, unsubscribe_token
from partners.models import Contact
from tests.monitoring.factories import organization
from tests.notifications.conftest import contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def it():  # noqa: ANN201
    return contact(organization("Alpha Brokers", "alpha.example"), "old-it@alpha.example")


def test_it_stops_an_old_link_once_the_address_changes(client, it) -> None:
    old_link = f"/email/{unsubscribe_token(it)}/"
    it.email = "new-it@alpha.example"
    it.save()
    response = client.post(old_link, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    it.refresh_from_db()
    assert it.digest != Contact.Digest.OFF
    # The link mailed to the new address works.
    new_link = f"/email/{unsubscribe_token(it)}/"
    assert client.post(new_link, {"List-Unsubscribe": "One-Click"}).status_code == 200


def test_it_keeps_working_when_only_the_case_of_the_address_changes(client, it) -> None:
    link = f"/email/{unsubscribe_token(it)}/"
    it.email = "Old-IT@alpha.example"
    it.save()
    assert client.get(link).status_code == 200


def test_it_refuses_a_token_that_names_only_the_contact(client, it) -> None:
    bare = signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(it.pk))
    assert client.post(f"/email/{bare}/", {"List-Unsubscribe": "One-Click"}).status_code == 404
