"""Who may see and do what: the only module that reads memberships to decide permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

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


def own_organizations(user: User) -> QuerySet[Organization]:
    """The organizations the user is a member of (for staff too: only their own memberships)."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def is_member(user: User, organization: Organization) -> bool:
    """Staff, or a member of the organization: who sees it in full (advice, history)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(user=user, organization=organization).exists()


def is_organization_admin(user: User, organization: Organization) -> bool:
    """Staff, or an admin of the organization: who may act for it."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()


@dataclass(frozen=True, slots=True)
class Permissions:
    """What one user may do with one organization, read in one query."""

    member: bool  # sees it in full
    reprobe: bool
    manage_contacts: bool
    explain: bool  # comply or explain: state why its level is below verified
    accept_exception: bool  # staff record that a shortfall is an accepted exception


def permissions_for(user: User, organization: Organization) -> Permissions:
    """The user's permissions on the organization (staff: all; admins: all; viewers: see)."""
    if not user.is_authenticated:
        return Permissions(False, False, False, False, False)
    if user.is_staff:
        return Permissions(True, True, True, True, True)
    role = (
        Membership.objects.filter(user=user, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    admin = role == Membership.Role.ADMIN
    return Permissions(
        member=role is not None,
        reprobe=admin,
        manage_contacts=admin,
        explain=admin,
        accept_exception=False,
    )


def can_reprobe(*, user: User, organization: Organization) -> bool:
    """Who may ask for a re-probe of the organization."""
    return is_organization_admin(user, organization)


def get_pair_for_user(user: User, a: str, b: str) -> tuple[Organization, Organization]:
    """Both organizations of a partnership the user may look at (staff, or a member of one).

    Http404 for anything else: unknown slugs, a pair that is not a partnership, or a pair
    of two organizations the user is not a member of.
    """
    left = get_visible_organization(user, a)
    right = get_visible_organization(user, b)
    low, high = sorted((left.pk, right.pk))
    if low == high:
        raise Http404("No such pair.")
    partnership = Partnership.objects.filter(org_a_id=low, org_b_id=high)
    if not visible_pairs(partnership, viewer=user).exists():
        raise Http404("No such pair.")
    return left, right


def can_accept_exception(*, user: User) -> bool:
    """Only industry staff record that an organization's shortfall is an accepted exception."""
    return bool(user.is_authenticated and user.is_staff)


View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Refuse non-staff with 403; put @login_required above it so anonymous users log in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Only industry staff may do this.")
        return view(request, *args, **kwargs)

    return wrapper


def administers_any_organization(user: User) -> bool:
    """Whether the user administers at least one organization (staff count as admins)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
