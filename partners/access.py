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


def visible_pairs(
    partnerships: QuerySet[Partnership],
    *,
    viewer: User,
    kind: str = "",
    province: str = "",
    search: str = "",
) -> QuerySet[Partnership]:
    """The partnerships a viewer may see (staff: all; members: their own organizations'),
    narrowed to pairs where one side matches kind, province and a name search."""
    if not viewer.is_staff:
        own = Membership.objects.filter(user=viewer).values("organization_id")
        partnerships = partnerships.filter(Q(org_a__in=own) | Q(org_b__in=own))
    side = Q()
    for attribute, value in (
        ("kind", kind),
        ("province", province),
        ("name__icontains", search.strip()),
    ):
        if value:
            side &= Q(**{attribute: value})
    if side:
        matching = Organization.objects.filter(side).values("pk")
        partnerships = partnerships.filter(Q(org_a__in=matching) | Q(org_b__in=matching))
    return partnerships


def can_reprobe(*, user: User, organization: Organization) -> bool:
    """Staff, or an admin of the organization, may ask for a re-probe."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()


def is_organization_admin(user: User) -> bool:
    """Whether the user administers at least one organization (staff count as admins)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
