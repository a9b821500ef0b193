"""The partner registry: organizations, their mail domains, contacts, partnerships, members."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from partners.domains import InvalidDomain, normalize_domain


class Kind(models.TextChoices):
    INSURER = "insurer", _("Insurer")
    BROKERAGE = "brokerage", _("Brokerage")
    OTHER = "other", _("Other")


class Province(models.TextChoices):
    AB = "AB", _("Alberta")
    BC = "BC", _("British Columbia")
    MB = "MB", _("Manitoba")
    NB = "NB", _("New Brunswick")
    NL = "NL", _("Newfoundland and Labrador")
    NS = "NS", _("Nova Scotia")
    NT = "NT", _("Northwest Territories")
    NU = "NU", _("Nunavut")
    ON = "ON", _("Ontario")
    PE = "PE", _("Prince Edward Island")
    QC = "QC", _("Quebec")
    SK = "SK", _("Saskatchewan")
    YT = "YT", _("Yukon")


def validate_organization_name(value: str) -> None:
    # The CSV format lists partners by name, separated by ";" (see partners.csvio).
    if ";" in value:
        raise ValidationError(_("An organization name may not contain ';'."))
    if not value.strip():
        raise ValidationError(_("An organization name may not be blank."))


def validate_contact_name(value: str) -> None:
    # The CSV format writes contacts as `Name <email>;...`.
    if any(ch in value for ch in ";<>"):
        raise ValidationError(_("A contact name may not contain ';', '<' or '>'."))


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[validate_organization_name])
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    province = models.CharField(
        _("province or territory"), max_length=2, choices=Province.choices, blank=True
    )
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Identifier in another system.")
    )
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class DomainNameField(models.CharField):
    """A CharField whose cleaning normalizes the value with normalize_domain()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 253)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return normalize_domain(value)
        except InvalidDomain as exc:
            raise ValidationError(str(exc), code="invalid_domain") from None


class MailDomain(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="domains",
        verbose_name=_("organization"),
    )
    # Unique across the system: one domain's mail goes to one organization.
    name = DomainNameField(_("domain name"), unique=True)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mail domain")
        verbose_name_plural = _("mail domains")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Role(models.TextChoices):
        IT = "it", _("IT")
        SECURITY = "security", _("Security")
        BUSINESS = "business", _("Business")

    class Digest(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        DAILY = "daily", _("Daily")
        OFF = "off", _("Off")

    class Language(models.TextChoices):
        EN = "en", "English"
        FR_CA = "fr-ca", "Français (Canada)"

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("organization"),
    )
    name = models.CharField(
        _("name"), max_length=200, blank=True, validators=[validate_contact_name]
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.IT)
    digest = models.CharField(
        _("digest frequency"), max_length=8, choices=Digest.choices, default=Digest.WEEKLY
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    # Send the digest even when it has nothing new to say (monitoring.notifications.digests).
    digest_always = models.BooleanField(_("digest even when nothing changed"), default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "email"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("email"), name="contact_unique_email_per_organization"
            )
        ]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Partnership(models.Model):
    """Two organizations that exchange mail; unordered, stored with org_a_id < org_b_id."""

    org_a = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="partnerships_as_a"
    )
    org_b = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="partnerships_as_b"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org_a", "org_b"], name="partnership_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(org_a=models.F("org_b")),
                name="partnership_not_self",
                violation_error_message=_("An organization cannot partner with itself."),
            ),
            # One row per pair: services store the lower id first (see partnership_create).
            models.CheckConstraint(
                condition=models.Q(org_a__lt=models.F("org_b")),
                name="partnership_canonical_order",
                violation_error_message=_("Store the organization with the lower id first."),
            ),
        ]
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")

    def __str__(self) -> str:
        return f"{self.org_a} ↔ {self.org_b}"


class Membership(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer")
        ADMIN = "admin", _("Admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"
