"""Tests that every admin changelist, add and change page of the registry loads for staff."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from partners.models import Contact, MailDomain, Membership, Organization, Partnership
from partners.services import partnership_create

pytestmark = pytest.mark.django_db
MODELS = [Organization, MailDomain, Contact, Partnership, Membership]


@pytest.fixture
def admin_client_with_data(client, personas):
    superuser = get_user_model().objects.create_superuser("root@example.org", password="x" * 12)
    Contact.objects.create(organization=personas.alices_org, name="IT", email="it@alpha.example")
    partnership_create(personas.alices_org, personas.charlies_org)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_loads_the_changelist_with_search_and_filters(admin_client_with_data, model) -> None:
    url = reverse(f"admin:partners_{model._meta.model_name}_changelist")
    assert admin_client_with_data.get(url).status_code == 200
    assert admin_client_with_data.get(url, {"q": "alpha"}).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_loads_the_add_and_change_pages(admin_client_with_data, model) -> None:
    meta = model._meta
    add = reverse(f"admin:partners_{meta.model_name}_add")
    change = reverse(f"admin:partners_{meta.model_name}_change", args=[model.objects.first().pk])
    assert admin_client_with_data.get(add).status_code == 200
    assert admin_client_with_data.get(change).status_code == 200


def test_it_adds_a_partnership_in_either_order(admin_client_with_data, personas) -> None:
    Partnership.objects.all().delete()
    low, high = sorted([personas.alices_org.pk, personas.charlies_org.pk])
    response = admin_client_with_data.post(
        reverse("admin:partners_partnership_add"), {"org_a": high, "org_b": low}
    )
    assert response.status_code == 302, response.content
    partnership = Partnership.objects.get()
    assert (partnership.org_a_id, partnership.org_b_id) == (low, high)


def test_it_normalizes_a_domain_added_in_the_admin(admin_client_with_data, personas) -> None:
    response = admin_client_with_data.post(
        reverse("admin:partners_maildomain_add"),
        {"organization": personas.alices_org.pk, "name": "Mail.ALPHA-Two.example.", "active": "on"},
    )
    assert response.status_code == 302, response.content
    assert MailDomain.objects.filter(name="mail.alpha-two.example").exists()


def test_it_is_closed_to_members(client, alice) -> None:
    client.force_login(alice)
    response = client.get(reverse("admin:partners_organization_changelist"))
    assert response.status_code == 302
