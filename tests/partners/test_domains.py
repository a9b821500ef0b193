"""Tests for partners.domains.normalize_domain and the MailDomain field that uses it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partners.domains import InvalidDomain, display_domain, normalize_domain
from partners.models import MailDomain
from partners.services import domain_create


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.ca", "example.ca"),
        ("  Example.CA  ", "example.ca"),
        ("example.ca.", "example.ca"),
        ("MAIL.Sub-Domain.Example.com", "mail.sub-domain.example.com"),
        ("assurance-québec.ca", "xn--assurance-qubec-mnb.ca"),
        ("ÉCOLE.Example", "xn--cole-9oa.example"),
        ("xn--cole-9oa.example", "xn--cole-9oa.example"),
        ("a" * 63 + ".ca", "a" * 63 + ".ca"),
        ("123.example", "123.example"),
    ],
)
def test_it_normalizes(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("192.0.2.10", "IP address"),
        ("[192.0.2.10]", "IP address"),
        ("2001:db8::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("::1", "IP address"),
        ("https://example.ca", "URL"),
        ("example.ca/path", "URL"),
        ("postmaster@example.ca", "email address"),
        ("example.ca:25", "port"),
        ("example", "single label"),
        ("example..ca", "empty label"),
        (".example.ca", "empty label"),
        ("example.ca..", "empty label"),
        ("exa mple.ca", "white space"),
        ("-example.ca", "hyphen"),
        ("example-.ca", "hyphen"),
        ("exa_mple.ca", "letters, digits"),
        ("a" * 64 + ".ca", "64 characters"),
        (".".join(["a" * 60] * 5) + ".ca", "limit is 253"),
        ("example.123", "numeric"),
        ("1.2.3", "numeric"),
        ("xn--zz.example", "punycode"),
    ],
)
def test_it_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDomain, match=reason):
        normalize_domain(raw)


def test_it_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalize_domain("not a domain")


def test_it_shows_names_in_unicode() -> None:
    assert display_domain("xn--cole-9oa.example") == "école.example"
    assert display_domain("example.ca") == "example.ca"


@pytest.mark.django_db
class TestMailDomainModel:
    def test_it_normalizes_on_validation(self, personas) -> None:
        domain = MailDomain(organization=personas.alices_org, name="New.Example.")
        domain.full_clean()
        assert domain.name == "new.example"

    def test_it_reports_the_reason_as_a_validation_error(self, personas) -> None:
        domain = MailDomain(organization=personas.alices_org, name="192.0.2.1")
        with pytest.raises(ValidationError) as info:
            domain.full_clean()
        assert "IP address" in str(info.value.message_dict["name"])

    def test_it_refuses_a_domain_of_another_organization(self, personas) -> None:
        # alpha.example belongs to alice's organization (see the personas fixture).
        with pytest.raises(ValidationError, match="already exists"):
            domain_create(organization=personas.charlies_org, name="ALPHA.example.")

    def test_it_has_a_database_unique_constraint(self, personas) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            MailDomain.objects.create(organization=personas.charlies_org, name="alpha.example")
