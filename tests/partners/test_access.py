"""Tests for partners.access: who sees which organization."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from partners.access import get_organization_for_user, get_visible_organization
from partners.access import visible_organizations as visible
from partners.services import organization_create, partnership_create

pytestmark = pytest.mark.django_db


def test_it_shows_members_their_own_organization_only(personas) -> None:
    assert list(visible(personas.alice)) == [personas.alices_org]
    assert list(visible(personas.charlie)) == [personas.charlies_org]


def test_it_shows_partners_too(personas) -> None:
    partnership_create(personas.alices_org, personas.charlies_org)
    organization_create(name="Unrelated Mutual")
    assert set(visible(personas.bob)) == {personas.alices_org, personas.charlies_org}
    assert set(visible(personas.charlie)) == {personas.alices_org, personas.charlies_org}


def test_it_shows_staff_everything(personas) -> None:
    other = organization_create(name="Unrelated Mutual")
    assert set(visible(personas.staff)) == {personas.alices_org, personas.charlies_org, other}


def test_it_shows_anonymous_users_nothing(personas) -> None:
    assert not visible(AnonymousUser()).exists()


def test_it_gets_an_organization_for_a_member(personas) -> None:
    slug = personas.alices_org.slug
    assert get_organization_for_user(personas.bob, slug) == personas.alices_org
    assert get_organization_for_user(personas.alice, slug, admin=True) == personas.alices_org
    assert get_organization_for_user(personas.staff, slug) == personas.alices_org


def test_it_raises_404_for_non_members_even_partners(personas) -> None:
    partnership_create(personas.alices_org, personas.charlies_org)
    with pytest.raises(Http404):
        get_organization_for_user(personas.charlie, personas.alices_org.slug)
    with pytest.raises(Http404):
        get_organization_for_user(personas.charlie, "no-such-organization")
    with pytest.raises(Http404):
        get_organization_for_user(AnonymousUser(), personas.alices_org.slug)


def test_it_refuses_admin_actions_to_viewers(personas) -> None:
    with pytest.raises(PermissionDenied):
        get_organization_for_user(personas.bob, personas.alices_org.slug, admin=True)


def test_it_lets_partners_look_at_each_other(personas) -> None:
    with pytest.raises(Http404):
        get_visible_organization(personas.charlie, personas.alices_org.slug)
    partnership_create(personas.alices_org, personas.charlies_org)
    assert get_visible_organization(personas.charlie, personas.alices_org.slug)


def test_it_tells_members_from_partners_and_admins_from_viewers(personas) -> None:
    from partners import access

    partnership_create(personas.alices_org, personas.charlies_org)
    alpha, charlie_org = personas.alices_org, personas.charlies_org
    assert access.is_member(personas.bob, alpha)
    assert not access.is_member(personas.charlie, alpha)  # a partner, not a member
    assert access.is_member(personas.staff, alpha)
    assert not access.is_member(AnonymousUser(), alpha)
    assert access.is_organization_admin(personas.alice, alpha)
    assert not access.is_organization_admin(personas.bob, alpha)
    assert not access.is_organization_admin(personas.alice, charlie_org)
    assert access.permissions_for(personas.staff, charlie_org).manage_contacts
    assert access.can_reprobe(user=personas.alice, organization=alpha)
    assert not access.can_reprobe(user=AnonymousUser(), organization=alpha)
    assert list(access.own_organizations(personas.bob)) == [alpha]
    assert not access.own_organizations(personas.staff).exists()


def test_it_gets_a_pair_only_for_its_members_and_staff(personas) -> None:
    from partners import access

    alpha, charlie_org = personas.alices_org, personas.charlies_org
    other = organization_create(name="Delta Mutual")
    with pytest.raises(Http404):  # not a partnership yet
        access.get_pair_for_user(personas.staff, alpha.slug, charlie_org.slug)
    partnership_create(alpha, charlie_org)
    partnership_create(charlie_org, other)
    assert access.get_pair_for_user(personas.bob, alpha.slug, charlie_org.slug) == (
        alpha,
        charlie_org,
    )
    assert access.get_pair_for_user(personas.staff, charlie_org.slug, other.slug) == (
        charlie_org,
        other,
    )
    with pytest.raises(Http404):  # bob sees charlie's org as a partner, but not its pairs
        access.get_pair_for_user(personas.bob, charlie_org.slug, other.slug)
    with pytest.raises(Http404):
        access.get_pair_for_user(personas.bob, alpha.slug, alpha.slug)


def test_it_gets_a_pair_in_three_queries(personas, django_assert_num_queries) -> None:
    from partners import access

    alpha, charlie_org = personas.alices_org, personas.charlies_org
    partnership_create(alpha, charlie_org)
    # Each organization as the user may see it, then the partnership as the user may see it.
    for user in (personas.bob, personas.staff):
        with django_assert_num_queries(3):
            assert access.get_pair_for_user(user, alpha.slug, charlie_org.slug) == (
                alpha,
                charlie_org,
            )


def test_it_reads_a_users_permissions_on_an_organization_in_one_query(
    personas, django_assert_num_queries
) -> None:
    from partners.access import permissions_for

    alpha = personas.alices_org
    with django_assert_num_queries(1):
        alice = permissions_for(personas.alice, alpha)
    assert (alice.member, alice.reprobe, alice.manage_contacts) == (True, True, True)
    bob = permissions_for(personas.bob, alpha)
    assert (bob.member, bob.reprobe, bob.manage_contacts) == (True, False, False)
    charlie = permissions_for(personas.charlie, alpha)
    assert (charlie.member, charlie.reprobe, charlie.manage_contacts) == (False, False, False)
    with django_assert_num_queries(0):
        staff = permissions_for(personas.staff, alpha)
    assert (staff.member, staff.reprobe, staff.manage_contacts) == (True, True, True)
