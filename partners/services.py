"""Writes to the partner registry; views, forms, commands and the import call these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from partners.domains import InvalidDomain, normalize_domain
from partners.models import Contact, Kind, MailDomain, Membership, Organization, Partnership


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


DUPLICATE_CONTACT_EMAIL = _("This organization already has a contact with this email.")


def _contact_check_email_free(
    *, organization: Organization, email: str, exclude_pk: int | None
) -> None:
    # The database constraint ignores case; say so in words before it says so in an IntegrityError.
    taken = Contact.objects.filter(organization=organization, email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL})


def _contact_save(*, contact: Contact) -> Contact:
    # The model allows a blank name because imported lists may lack one; people added by hand
    # get a name, so that digests and the contacts page can say who they are.
    if not contact.name.strip():
        raise ValidationError({"name": _("Enter the contact's name.")})
    _contact_check_email_free(
        organization=contact.organization, email=contact.email, exclude_pk=contact.pk
    )
    # Constraints were checked above with a clearer message; a concurrent duplicate still
    # reaches the database constraint, which the savepoint turns into the same error.
    contact.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL}) from None
    return contact


def contact_create(
    *,
    organization: Organization,
    name: str,
    email: str,
    role: str = Contact.Role.IT,
    digest: str = Contact.Digest.WEEKLY,
    digest_always: bool = False,
    language: str = Contact.Language.EN,
) -> Contact:
    contact = Contact(
        organization=organization,
        name=name.strip(),
        email=email.strip(),
        role=role,
        digest=digest,
        digest_always=digest_always,
        language=language,
    )
    return _contact_save(contact=contact)


def contact_update(
    *,
    contact: Contact,
    name: str,
    email: str,
    role: str,
    digest: str,
    digest_always: bool,
    language: str,
) -> Contact:
    contact.name = name.strip()
    contact.email = email.strip()
    contact.role = role
    contact.digest = digest
    contact.digest_always = digest_always
    contact.language = language
    try:
        return _contact_save(contact=contact)
    except ValidationError:
        # Leave the caller's instance as stored, not half-edited (the page shows its email).
        contact.refresh_from_db()
        raise


def contact_delete(*, contact: Contact) -> None:
    contact.delete()
