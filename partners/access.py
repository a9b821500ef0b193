"""Which organizations a user may see; every view fetches organizations through here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from partners.models import Membership, Organization, Partnership

User = AbstractBaseUser | AnonymousUser


def member_organizations(user: User) -> QuerySet[Organization]:
    """The organizations the user belongs to (all of them for staff)."""
    if not user.is_authenticated:
        return Organization.objects.none()
    if user.is_staff:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user)


def visible_organizations(user: User) -> QuerySet[Organization]:
    """Own organizations and their partners for members; everything for staff."""
    if not user.is_authenticated:
        return Organization.objects.none()
    if user.is_staff:
        return Organization.objects.all()
    own = Membership.objects.filter(user=user).values("organization_id")
    return Organization.objects.filter(
        Q(pk__in=own)
        | Q(pk__in=Partnership.objects.filter(org_a__in=own).values("org_b"))
        | Q(pk__in=Partnership.objects.filter(org_b__in=own).values("org_a"))
    )


def get_organization_for_user(user: User, slug: str, *, admin: bool = False) -> Organization:
    """The organization `slug` if the user is a member (or staff).

    Raises Http404 for non-members, so that a URL does not reveal which organizations exist;
    PermissionDenied when `admin` is asked for and the member is only a viewer.
    """
    if not user.is_authenticated:
        raise Http404("No such organization.")
    if user.is_staff:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise Http404("No such organization.")
        return organization
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    if admin and membership.role != Membership.Role.ADMIN:
        raise PermissionDenied("Only an admin of this organization may do this.")
    return membership.organization


def get_visible_organization(user: User, slug: str) -> Organization:
    """An organization the user may look at (own or partner); Http404 otherwise."""
    organization = visible_organizations(user).filter(slug=slug).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization
