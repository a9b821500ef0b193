"""Tests for the plain-language fix advice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from monitoring import levels
from monitoring.dashboard.advice import advice_for_domain, outbound_advice
from monitoring.models import Certificate, DomainStatus, HostObservation
from partners.models import MailDomain
from tests.monitoring.factories import T0

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # A request in another test may leave its language active in this thread.
    with translation.override("en"):
        yield


def _status(**fields) -> DomainStatus:
    return DomainStatus(domain=MailDomain(name="example.ca"), level="partial", **fields)


def _observation(host: str, **fields) -> HostObservation:
    fields.setdefault("tested", True)
    return HostObservation(host=host, ip="192.0.2.1", **fields)


def test_it_explains_a_host_without_starttls() -> None:
    advice = advice_for_domain(
        _status(), [_observation("mx-backup.example.ca", error="starttls-not-offered")], now=T0
    )
    assert advice[0].severity == "problem"
    assert advice[0].message == (
        "mx-backup.example.ca does not offer STARTTLS: enable it, or remove it from your MX "
        "records."
    )


def test_it_warns_before_a_certificate_expires() -> None:
    certificate = Certificate(
        sha256="a" * 64,
        not_before=T0 - timedelta(days=80),
        not_after=T0 + timedelta(days=9, hours=2),
    )
    advice = advice_for_domain(
        _status(),
        [_observation("mx2.example.ca", tls_version="TLSv1.3", certificate=certificate)],
        now=T0,
    )
    assert "The certificate on mx2.example.ca expires in 9 days: renew it." in [
        a.message for a in advice
    ]


def test_it_explains_certificate_errors_once_per_host() -> None:
    observations = [
        _observation("mx.example.ca", cert_errors=["self-signed", "hostname-mismatch"]),
        HostObservation(
            host="mx.example.ca", ip="2001:db8::1", tested=True, cert_errors=["self-signed"]
        ),
    ]
    codes = [a.code for a in advice_for_domain(_status(), observations, now=T0)]
    assert sorted(codes) == ["hostname-mismatch", "no-tls-rpt", "self-signed"]


def test_it_advises_on_domain_warnings() -> None:
    status = _status(warnings=["mta-sts-testing", "no-downgrade-protection"], tls_rpt_present=True)
    advice = advice_for_domain(status, [], now=T0)
    assert [a.code for a in advice] == ["mta-sts-testing", "no-downgrade-protection"]
    assert all(a.severity == "info" for a in advice)


def test_it_advises_on_outbound_only_when_the_sender_is_not_seen_using_tls() -> None:
    assert outbound_advice("Alpha", levels.OUTBOUND_TLS) is None
    found = {
        outbound: outbound_advice("Alpha", outbound)
        for outbound in (
            levels.OUTBOUND_PLAINTEXT,
            levels.OUTBOUND_LEGACY_TLS,
            levels.OUTBOUND_UNKNOWN,
        )
    }
    assert {outbound: (a.code, a.severity) for outbound, a in found.items() if a} == {
        levels.OUTBOUND_PLAINTEXT: ("outbound-plaintext", "problem"),
        levels.OUTBOUND_LEGACY_TLS: ("outbound-legacy-tls", "problem"),
        levels.OUTBOUND_UNKNOWN: ("outbound-unknown", "info"),
    }


def test_it_speaks_french() -> None:
    with translation.override("fr-ca"):
        [advice, *_] = advice_for_domain(
            _status(), [_observation("mx.example.ca", error="starttls-not-offered")], now=T0
        )
    assert "STARTTLS" in advice.message
    assert "n’offre pas" in advice.message or "n'offre pas" in advice.message
