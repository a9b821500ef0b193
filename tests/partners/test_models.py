"""Tests for the registry's models and write services: partnerships, memberships, contacts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from partners.models import Contact, Organization, Partnership
from partners.services import organization_create, partnership_create, partnership_delete

pytestmark = pytest.mark.django_db


def test_it_stores_a_partnership_in_canonical_order(personas) -> None:
    first = partnership_create(personas.charlies_org, personas.alices_org)
    assert first.org_a_id < first.org_b_id
    again = partnership_create(personas.alices_org, personas.charlies_org)
    assert again.pk == first.pk
    assert Partnership.objects.count() == 1


def test_it_refuses_a_self_partnership(personas) -> None:
    with pytest.raises(ValidationError, match="itself"):
        partnership_create(personas.alices_org, personas.alices_org)


def test_it_enforces_order_and_no_self_in_the_database(personas) -> None:
    low, high = sorted([personas.alices_org.pk, personas.charlies_org.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Partnership.objects.create(org_a_id=high, org_b_id=low)
    with pytest.raises(IntegrityError), transaction.atomic():
        Partnership.objects.create(org_a_id=low, org_b_id=low)


def test_it_deletes_a_partnership_from_either_side(personas) -> None:
    partnership_create(personas.alices_org, personas.charlies_org)
    assert partnership_delete(personas.charlies_org, personas.alices_org) is True
    assert not Partnership.objects.exists()


def test_it_makes_the_slug_from_the_name(db) -> None:
    organization = organization_create(name="Courtage Saint-Laurent Inc.")
    assert organization.slug == "courtage-saint-laurent-inc"


def test_it_refuses_a_name_with_a_semicolon(db) -> None:
    with pytest.raises(ValidationError):
        organization_create(name="Smith; Jones")
    assert not Organization.objects.exists()


def test_it_keeps_one_contact_per_email_per_organization(personas) -> None:
    Contact.objects.create(organization=personas.alices_org, email="it@alpha.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(organization=personas.alices_org, email="IT@alpha.example")


def test_it_defaults_contacts_to_weekly_english_digests(personas) -> None:
    contact = Contact.objects.create(organization=personas.alices_org, email="x@alpha.example")
    assert (contact.digest, contact.language, contact.role) == ("weekly", "en", "it")
