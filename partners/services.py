"""Writes to the partner registry; views, forms, commands and the import call these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from partners.domains import InvalidDomain, normalize_domain
from partners.models import Kind, MailDomain, Membership, Organization, Partnership


def organization_slug(name: str) -> str:
    """The slug an organization of this name gets; the import matches rows on it."""
    slug = slugify(name)
    if not slug:
        raise ValidationError(f"cannot make a URL name (slug) from {name!r}; use Latin letters")
    return slug[:200]


@transaction.atomic
def organization_create(
    *, name: str, kind: str = Kind.OTHER, province: str = "", domains: tuple[str, ...] = ()
) -> Organization:
    organization = Organization(
        name=name.strip(), slug=organization_slug(name), kind=kind, province=province
    )
    organization.full_clean()
    organization.save()
    for domain in domains:
        domain_create(organization=organization, name=domain)
    return organization


def domain_create(*, organization: Organization, name: str) -> MailDomain:
    try:
        normalized = normalize_domain(name)
    except InvalidDomain as exc:
        raise ValidationError({"name": str(exc)}) from None
    domain = MailDomain(organization=organization, name=normalized)
    domain.full_clean()
    domain.save()
    return domain


def canonical_pair(a_id: int, b_id: int) -> tuple[int, int]:
    if a_id == b_id:
        raise ValidationError("An organization cannot partner with itself.")
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def partnership_create(a: Organization, b: Organization) -> Partnership:
    """Record that a and b exchange mail; returns the existing row when they already do."""
    low, high = canonical_pair(a.pk, b.pk)
    partnership, _ = Partnership.objects.get_or_create(org_a_id=low, org_b_id=high)
    return partnership


def partnership_delete(a: Organization, b: Organization) -> bool:
    low, high = canonical_pair(a.pk, b.pk)
    deleted, _ = Partnership.objects.filter(org_a_id=low, org_b_id=high).delete()
    return deleted > 0


def membership_set(
    *, user: AbstractBaseUser, organization: Organization, role: str = Membership.Role.VIEWER
) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership
