"""Grading, case by case, straight from the rules in docs/probe.md."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitoring.probe.grading import grade
from monitoring.probe.model import (
    AddressResult,
    CertificateInfo,
    DaneResult,
    Level,
    MtaStsResult,
    MxResult,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
NO_STS = MtaStsResult(mode=None, valid=None)
ENFORCE = MtaStsResult(mode="enforce", valid=True)
NO_DANE = DaneResult(tlsa=False, dnssec=False, valid=None)


def cert(days_left: int = 200, errors: tuple[str, ...] = ()) -> CertificateInfo:
    return CertificateInfo(
        subject="CN=mx",
        san=("mx.example.test",),
        issuer="CN=CA",
        not_before=NOW,
        not_after=NOW,
        days_left=days_left,
        trusted=True,
        hostname_match=True,
        self_signed=False,
        expired=days_left < 0,
        key="EC-256",
        signature_algorithm="ecdsa-with-SHA256",
        sha256="0" * 64,
        errors=errors,
    )


def tls(ip: str, **kw: object) -> AddressResult:
    values = dict(
        ip=ip,
        tested=True,
        starttls=True,
        tls_version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        certificate=cert(),
    )
    values.update(kw)
    return AddressResult(**values)  # type: ignore[arg-type]


def plain(ip: str) -> AddressResult:
    return AddressResult(ip=ip, tested=True, starttls=False, error="starttls-not-offered")


def untested(ip: str | None, error: str = "connection-refused") -> AddressResult:
    return AddressResult(ip=ip, tested=False, starttls=False, error=error)


def run(addresses, valid=None, sts=NO_STS, dane=NO_DANE, error=None):
    mx = (MxResult("mx.example.test", 10, False, tuple(addresses)),)
    if valid is None:
        valid = {("mx.example.test", a.ip): True for a in addresses}
    return grade(error=error, mx=mx, valid_certificates=valid, mta_sts=sts, dane=dane)


class TestLevels:
    def test_it_is_verified_when_every_address_has_tls_and_a_valid_chain(self):
        assert run([tls("192.0.2.1"), tls("192.0.2.2")])[0] is Level.VERIFIED

    def test_it_is_encrypted_when_one_chain_fails(self):
        addresses = [tls("192.0.2.1"), tls("192.0.2.2")]
        valid = {("mx.example.test", "192.0.2.1"): True, ("mx.example.test", "192.0.2.2"): False}
        assert run(addresses, valid=valid)[0] is Level.ENCRYPTED

    def test_it_is_partial_when_some_tested_addresses_lack_tls(self):
        assert run([tls("192.0.2.1"), plain("192.0.2.2")])[0] is Level.PARTIAL

    def test_it_is_plaintext_when_no_tested_address_has_tls(self):
        assert run([plain("192.0.2.1"), plain("192.0.2.2")])[0] is Level.PLAINTEXT

    def test_legacy_only_tls_is_not_working_starttls(self):
        legacy = AddressResult(ip="192.0.2.1", tested=True, starttls=True, error="tls-legacy-only")
        assert run([legacy])[0] is Level.PLAINTEXT
        assert run([tls("192.0.2.2"), legacy])[0] is Level.PARTIAL

    def test_it_is_unreachable_when_nothing_was_tested(self):
        level, warnings = run([untested("192.0.2.1"), untested(None, "no-address")])
        assert level is Level.UNREACHABLE
        assert "address-untested" in warnings

    def test_untested_addresses_are_left_out_of_the_level(self):
        level, warnings = run([tls("192.0.2.1"), untested("192.0.2.2", "timeout")])
        assert level is Level.VERIFIED
        assert "address-untested" in warnings

    def test_a_plaintext_address_beside_an_untested_one_is_plaintext(self):
        level, _ = run([plain("192.0.2.1"), untested("192.0.2.2", "greeting-4xx")])
        assert level is Level.PLAINTEXT

    @pytest.mark.parametrize("error", ["nxdomain", "null-mx", "no-mx-no-address"])
    def test_it_is_no_mail_for_domains_that_take_no_mail(self, error):
        assert grade(error=error, mx=(), valid_certificates={}, mta_sts=NO_STS, dane=NO_DANE) == (
            Level.NO_MAIL,
            (),
        )

    @pytest.mark.parametrize("error", ["dns-timeout", "dns-servfail"])
    def test_dns_failures_are_unreachable_never_no_mail(self, error):
        level, warnings = grade(
            error=error, mx=(), valid_certificates={}, mta_sts=NO_STS, dane=NO_DANE
        )
        assert level is Level.UNREACHABLE
        assert warnings == ()


class TestWarnings:
    @pytest.mark.parametrize(
        "days_left, expected", [(-1, False), (0, True), (30, True), (31, False)]
    )
    def test_it_warns_of_expiry_within_thirty_days(self, days_left, expected):
        _, warnings = run([tls("192.0.2.1", certificate=cert(days_left))])
        assert ("cert-expiring" in warnings) is expected

    def test_it_ignores_certificates_of_untested_addresses(self):
        address = AddressResult(
            ip="192.0.2.2", tested=False, starttls=False, error="ehlo-4xx", certificate=cert(3)
        )
        _, warnings = run([tls("192.0.2.1"), address])
        assert "cert-expiring" not in warnings

    def test_it_carries_weak_key_and_signature_from_certificate_errors(self):
        weak = cert(errors=("weak-key", "weak-signature"))
        _, warnings = run([tls("192.0.2.1", certificate=weak)])
        assert {"weak-key", "weak-signature"} <= set(warnings)

    def test_enforced_mta_sts_is_downgrade_protection(self):
        assert "no-downgrade-protection" in run([tls("192.0.2.1")])[1]
        assert "no-downgrade-protection" not in run([tls("192.0.2.1")], sts=ENFORCE)[1]

    def test_valid_dane_is_downgrade_protection(self):
        dane = DaneResult(tlsa=True, dnssec=True, valid=True)
        assert "no-downgrade-protection" not in run([tls("192.0.2.1")], dane=dane)[1]

    def test_testing_and_invalid_policies_are_warned_about(self):
        testing = MtaStsResult(mode="testing", valid=True)
        invalid = MtaStsResult(mode="enforce", valid=False, errors=("mx-mismatch",))
        assert "mta-sts-testing" in run([tls("192.0.2.1")], sts=testing)[1]
        warnings = run([tls("192.0.2.1")], sts=invalid)[1]
        assert {"mta-sts-invalid", "no-downgrade-protection"} <= set(warnings)

    def test_it_warns_when_tlsa_matches_no_presented_certificate(self):
        _, warnings = run([tls("192.0.2.1", dane_match=False)])
        assert "dane-mismatch" in warnings

    def test_warnings_never_change_the_level(self):
        expiring = tls("192.0.2.1", certificate=cert(5))
        level, warnings = run([expiring], sts=MtaStsResult(mode="testing", valid=False))
        assert level is Level.VERIFIED
        assert list(warnings) == [
            "cert-expiring",
            "mta-sts-testing",
            "mta-sts-invalid",
            "no-downgrade-protection",
        ]
