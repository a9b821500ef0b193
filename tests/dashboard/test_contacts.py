"""Tests for an organization's contacts page at /orgs/<slug>/contacts/ and its services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from partners.models import Contact
from partners.services import contact_create, contact_delete, contact_update

pytestmark = pytest.mark.django_db

URL = "/orgs/alpha-brokers/contacts/"
HTMX = {"HX-Request": "true"}


def fields(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Jeanne Roy",
        "email": "jeanne@alpha.example",
        "role": "security",
        "digest": "daily",
        "language": "fr-ca",
    }
    data.update(overrides)
    return data


@pytest.fixture
def jeanne(personas) -> Contact:
    return contact_create(
        organization=personas.alices_org, name="Jeanne Roy", email="jeanne@alpha.example"
    )


# -- services ------------------------------------------------------------------------------------


def test_it_creates_updates_and_deletes_through_the_services(personas) -> None:
    contact = contact_create(
        organization=personas.alices_org,
        name=" Jeanne Roy ",
        email="jeanne@alpha.example",
        role=Contact.Role.SECURITY,
        digest=Contact.Digest.DAILY,
        digest_always=True,
        language=Contact.Language.FR_CA,
    )
    assert (contact.name, contact.role, contact.digest_always) == ("Jeanne Roy", "security", True)
    contact_update(
        contact=contact,
        name="Jeanne Roy-Tremblay",
        email="jroy@alpha.example",
        role=Contact.Role.BUSINESS,
        digest=Contact.Digest.OFF,
        digest_always=False,
        language=Contact.Language.EN,
    )
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.digest) == (
        "Jeanne Roy-Tremblay",
        "jroy@alpha.example",
        "off",
    )
    contact_delete(contact=contact)
    assert not Contact.objects.exists()


def test_it_refuses_a_duplicate_email_in_any_case_within_the_organization(personas, jeanne) -> None:
    with pytest.raises(ValidationError) as caught:
        contact_create(organization=personas.alices_org, name="J", email="JEANNE@alpha.example")
    # Pinned to English: the message is lazy, and another test may leave French active.
    with translation.override("en"):
        message = str(caught.value.message_dict["email"])
    assert "already has a contact with this email" in message
    # Another organization may list the same person.
    contact_create(organization=personas.charlies_org, name="J", email="jeanne@alpha.example")


def test_it_refuses_a_blank_name_and_a_bad_email_in_the_services(personas) -> None:
    with pytest.raises(ValidationError) as caught:
        contact_create(organization=personas.alices_org, name="  ", email="x@alpha.example")
    assert "name" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        contact_create(organization=personas.alices_org, name="X", email="not-an-email")
    assert "email" in caught.value.message_dict


# -- who may see the page ------------------------------------------------------------------------


def test_it_lists_contacts_to_admins(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "jeanne@alpha.example" in page
    assert f'href="/orgs/alpha-brokers/contacts/{jeanne.pk}/"' in page
    assert f'hx-get="/orgs/alpha-brokers/contacts/{jeanne.pk}/"' in page
    assert 'hx-trigger="contactsChanged from:body"' in page


def test_it_lists_contacts_to_staff(client, staff, jeanne) -> None:
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert "jeanne@alpha.example" in response.content.decode()


def test_it_redirects_anonymous_users_to_login(client, personas) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={URL}")
    assert client.post(URL, fields()).status_code == 302
    assert not Contact.objects.exists()


def test_it_forbids_viewers(client, bob, jeanne) -> None:
    client.force_login(bob)
    assert client.get(URL).status_code == 403
    assert client.post(URL, fields(email="new@alpha.example")).status_code == 403
    assert client.get(f"{URL}{jeanne.pk}/").status_code == 403
    assert client.post(f"{URL}{jeanne.pk}/delete/").status_code == 403
    assert Contact.objects.count() == 1


def test_it_hides_other_organizations(client, charlie, jeanne) -> None:
    client.force_login(charlie)
    assert client.get(URL).status_code == 404
    assert client.post(f"{URL}{jeanne.pk}/delete/").status_code == 404
    assert client.get("/orgs/no-such-org/contacts/").status_code == 404
    assert Contact.objects.count() == 1


def test_it_scopes_contacts_to_the_organization_in_the_url(client, charlie, jeanne) -> None:
    # charlie administers his own organization, but jeanne is not one of its contacts.
    client.force_login(charlie)
    base = "/orgs/charlie-insurance/contacts/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{jeanne.pk}/").status_code == 404
    assert client.post(f"{base}{jeanne.pk}/", fields(name="Taken")).status_code == 404
    assert client.post(f"{base}{jeanne.pk}/delete/").status_code == 404
    jeanne.refresh_from_db()
    assert jeanne.name == "Jeanne Roy"


def test_it_links_to_contacts_from_the_organization_page_for_admins_only(
    client, alice, bob
) -> None:
    client.force_login(alice)
    assert f'href="{URL}"' in client.get("/orgs/alpha-brokers/").content.decode()
    client.force_login(bob)
    response = client.get("/orgs/alpha-brokers/")
    assert response.context["can_manage_contacts"] is False
    assert f'href="{URL}"' not in response.content.decode()


# -- writes through the page ---------------------------------------------------------------------


def test_it_adds_a_contact_with_htmx(client, alice) -> None:
    client.force_login(alice)
    response = client.post(URL, fields(digest_always="on"), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contactsChanged"
    assert response.content.lstrip().startswith(b'<section id="contact-form"')
    assert b"<html" not in response.content
    contact = Contact.objects.get(organization__slug="alpha-brokers")
    assert (contact.email, contact.role, contact.digest) == (
        "jeanne@alpha.example",
        "security",
        "daily",
    )
    assert (contact.digest_always, contact.language) == (True, "fr-ca")


def test_it_adds_a_contact_without_javascript(client, alice) -> None:
    client.force_login(alice)
    response = client.post(URL, fields())
    assert response.status_code == 302
    assert response["Location"] == URL
    assert Contact.objects.filter(email="jeanne@alpha.example").exists()


def test_it_refreshes_the_list_fragment_for_htmx(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.get(URL, headers=HTMX)
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<section id="contact-list"')
    assert b"jeanne@alpha.example" in response.content
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_it_shows_the_edit_form_in_place(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.get(f"{URL}{jeanne.pk}/", headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="contact-form"')
    assert f'hx-post="{URL}{jeanne.pk}/"' in page
    assert 'value="jeanne@alpha.example"' in page
    # Without JavaScript the same URL is a whole page.
    assert b"<html" in client.get(f"{URL}{jeanne.pk}/").content


def test_it_edits_a_contact_with_htmx(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.post(f"{URL}{jeanne.pk}/", fields(name="Jeanne Tremblay"), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contactsChanged"
    jeanne.refresh_from_db()
    assert (jeanne.name, jeanne.digest, jeanne.digest_always) == ("Jeanne Tremblay", "daily", False)


def test_it_edits_a_contact_without_javascript(client, staff, jeanne) -> None:
    client.force_login(staff)
    response = client.post(f"{URL}{jeanne.pk}/", fields(email="jtremblay@alpha.example"))
    assert response.status_code == 302
    jeanne.refresh_from_db()
    assert jeanne.email == "jtremblay@alpha.example"


def test_it_keeps_its_own_email_when_editing(client, alice, jeanne) -> None:
    # Changing only the case of one's own email is not a duplicate.
    client.force_login(alice)
    response = client.post(f"{URL}{jeanne.pk}/", fields(email="Jeanne@alpha.example"))
    assert response.status_code == 302


def test_it_deletes_a_contact_with_htmx(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.post(f"{URL}{jeanne.pk}/delete/", headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contactsChanged"
    assert not Contact.objects.exists()


def test_it_deletes_a_contact_without_javascript(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.post(f"{URL}{jeanne.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == URL
    assert not Contact.objects.exists()
    assert client.get(f"{URL}{jeanne.pk}/delete/").status_code == 405


# -- validation ----------------------------------------------------------------------------------


def test_it_explains_a_duplicate_email(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.post(URL, fields(email="JEANNE@alpha.example"), headers=HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "already has a contact with this email" in response.content.decode()
    assert Contact.objects.count() == 1


def test_it_explains_a_duplicate_email_when_editing(client, alice, jeanne) -> None:
    other = contact_create(
        organization=alice.memberships.get().organization, name="O", email="o@a.ca"
    )
    client.force_login(alice)
    response = client.post(f"{URL}{other.pk}/", fields(email="jeanne@alpha.example"))
    assert response.status_code == 400
    assert "already has a contact with this email" in response.content.decode()
    assert "Edit o@a.ca" in response.content.decode()  # the stored email, not the refused one
    other.refresh_from_db()
    assert other.email == "o@a.ca"


def test_it_explains_a_bad_email_and_a_missing_name(client, alice) -> None:
    client.force_login(alice)
    response = client.post(URL, fields(email="not-an-email", name=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert "This field is required." in page
    assert not Contact.objects.exists()


def test_it_enforces_csrf(personas, alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(URL, fields()).status_code == 403
    assert not Contact.objects.exists()
    # The page's own token (sent by htmx from <body hx-headers>) is accepted.
    client.get(URL)
    token = client.cookies["csrftoken"].value
    response = client.post(URL, fields(), headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200
    assert Contact.objects.count() == 1


def test_it_lists_contacts_in_a_fixed_number_of_queries(
    client, alice, django_assert_max_num_queries
) -> None:
    organization = alice.memberships.get().organization
    for n in range(20):
        contact_create(organization=organization, name=f"Person {n}", email=f"p{n}@alpha.example")
    client.force_login(alice)
    with django_assert_max_num_queries(4):
        response = client.get(URL)
    assert response.content.decode().count("@alpha.example</td>") == 20


def test_it_speaks_french(client, alice, jeanne) -> None:
    client.force_login(alice)
    response = client.get(URL, headers={"Accept-Language": "fr-CA"})
    page = response.content.decode()
    assert "Contacts de l’organisation Alpha Brokers" in page
    assert "Ajouter un contact" in page
    assert "Hebdomadaire" in page  # jeanne's digest frequency
    assert "Rôle" in page
