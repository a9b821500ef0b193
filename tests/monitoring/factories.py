"""Synthetic probe results and organizations for pipeline tests that do not need the lab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitoring.probe import (
    AddressResult,
    CertificateInfo,
    DomainResult,
    Level,
    MtaStsResult,
    MxResult,
)
from partners.models import Kind, Organization
from partners.services import organization_create

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def certificate(name: str, sha: str = "", days_left: int = 200) -> CertificateInfo:
    return CertificateInfo(
        subject=f"CN={name}",
        san=(name,),
        issuer="CN=Test CA",
        not_before=T0 - timedelta(days=10),
        not_after=T0 + timedelta(days=days_left),
        days_left=days_left,
        trusted=True,
        hostname_match=True,
        self_signed=False,
        expired=False,
        key="RSA-2048",
        signature_algorithm="sha256WithRSAEncryption",
        sha256=sha or (name.encode().hex() * 4)[:64].ljust(64, "0"),
        errors=(),
        chain_der=(b"leaf-der",),
    )


def result(
    domain: str,
    level: Level | str = Level.VERIFIED,
    *,
    at: datetime = T0,
    warnings: tuple[str, ...] = ("no-downgrade-protection",),
    hosts: tuple[tuple[str, str], ...] | None = None,
    cert: CertificateInfo | None = None,
) -> DomainResult:
    """A result whose MX hosts (host, ip) all answer like `level` says (roughly)."""
    level = Level(level)
    hosts = hosts if hosts is not None else ((f"mx.{domain}", "192.0.2.1"),)
    working = level in (Level.VERIFIED, Level.ENCRYPTED)
    mx = tuple(
        MxResult(
            host=host,
            preference=10 * (i + 1),
            implicit=False,
            addresses=(
                AddressResult(
                    ip=ip,
                    tested=level is not Level.UNREACHABLE,
                    starttls=working,
                    tls_version="TLSv1.3" if working else None,
                    cipher="TLS_AES_256_GCM_SHA384" if working else None,
                    error=None if working else "starttls-not-offered",
                    certificate=(cert or certificate(host)) if working else None,
                ),
            ),
        )
        for i, (host, ip) in enumerate(hosts)
    )
    if level is Level.NO_MAIL:
        mx = ()
    return DomainResult(
        domain=domain,
        level=level,
        checked_at=at,
        warnings=warnings,
        mx=mx,
        mta_sts=MtaStsResult(mode=None, valid=None),
        error="nxdomain" if level is Level.NO_MAIL else None,
    )


def organization(
    name: str, *domains: str, kind: str = Kind.BROKERAGE, province: str = "ON"
) -> Organization:
    return organization_create(name=name, kind=kind, province=province, domains=domains)
