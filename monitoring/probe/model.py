"""Frozen facts the probe library returns: one DomainResult per domain, JSON-ready."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime


class Level(enum.StrEnum):
    VERIFIED = "verified"
    ENCRYPTED = "encrypted"
    PARTIAL = "partial"
    PLAINTEXT = "plaintext"
    UNREACHABLE = "unreachable"
    NO_MAIL = "no-mail"

    @property
    def rank(self) -> int:
        """Order on the verified..plaintext scale: higher is better; -1 off the scale."""
        return _RANK.get(self, -1)

    @property
    def policy(self) -> str | None:
        """The per-domain sender policy of the standard this level allows (a-d)."""
        return _POLICY.get(self)


_RANK = {
    Level.VERIFIED: 3,
    Level.ENCRYPTED: 2,
    Level.PARTIAL: 1,
    Level.PLAINTEXT: 0,
}
_POLICY = {Level.VERIFIED: "d", Level.ENCRYPTED: "c", Level.PARTIAL: "b", Level.PLAINTEXT: "a"}


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    san: tuple[str, ...]
    issuer: str
    not_before: datetime
    not_after: datetime
    days_left: int
    trusted: bool
    hostname_match: bool
    self_signed: bool
    expired: bool
    key: str
    signature_algorithm: str
    sha256: str
    errors: tuple[str, ...]
    # DER of every certificate the server presented, leaf first (for storage and DANE).
    chain_der: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    def to_json(self) -> dict:
        return {
            "subject": self.subject,
            "san": list(self.san),
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "days_left": self.days_left,
            "trusted": self.trusted,
            "hostname_match": self.hostname_match,
            "self_signed": self.self_signed,
            "expired": self.expired,
            "key": self.key,
            "signature_algorithm": self.signature_algorithm,
            "sha256": self.sha256,
            "errors": list(self.errors),
        }


@dataclass(frozen=True, slots=True)
class AddressResult:
    ip: str | None
    tested: bool
    starttls: bool
    tls_version: str | None = None
    cipher: str | None = None
    error: str | None = None
    smtp_reply: str | None = None
    detail: str | None = None  # the probe's own note on the error (TLS alert, version seen)
    extensions: tuple[str, ...] = ()
    certificate: CertificateInfo | None = None
    # Whether the DANE TLSA records of the MX host match this address's chain (None: no TLSA).
    dane_match: bool | None = None

    @property
    def working_starttls(self) -> bool:
        return self.tested and self.tls_version is not None

    def to_json(self) -> dict:
        return {
            "ip": self.ip,
            "starttls": self.starttls,
            "tested": self.tested,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "error": self.error,
            "smtp_reply": self.smtp_reply,
            "detail": self.detail,
            "extensions": list(self.extensions),
            "certificate": self.certificate.to_json() if self.certificate else None,
        }


@dataclass(frozen=True, slots=True)
class MxResult:
    host: str
    preference: int
    implicit: bool
    addresses: tuple[AddressResult, ...]
    error: str | None = None  # e.g. "no-address", "dns-timeout" when the host's A/AAAA failed

    def to_json(self) -> dict:
        return {
            "host": self.host,
            "preference": self.preference,
            "implicit": self.implicit,
            "addresses": [a.to_json() for a in self.addresses],
        }


@dataclass(frozen=True, slots=True)
class MtaStsResult:
    mode: str | None  # enforce, testing, none, or None when no policy is published
    valid: bool | None
    errors: tuple[str, ...] = ()
    record_id: str | None = None
    max_age: int | None = None
    mx_patterns: tuple[str, ...] = ()
    certificate: CertificateInfo | None = None  # of the policy host, for expiry alerts
    detail: str | None = None  # the probe's own note on a failed fetch (which address, why)

    def to_json(self) -> dict:
        return {
            "mode": self.mode,
            "valid": self.valid,
            "errors": list(self.errors),
            "id": self.record_id,
            "max_age": self.max_age,
            "mx": list(self.mx_patterns),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class DaneResult:
    tlsa: bool
    dnssec: bool
    valid: bool | None

    def to_json(self) -> dict:
        return {"tlsa": self.tlsa, "dnssec": self.dnssec, "valid": self.valid}


@dataclass(frozen=True, slots=True)
class TlsRptResult:
    present: bool
    rua: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"present": self.present, "rua": list(self.rua)}


@dataclass(frozen=True, slots=True)
class DomainResult:
    domain: str
    level: Level
    checked_at: datetime
    warnings: tuple[str, ...] = ()
    mx: tuple[MxResult, ...] = ()
    mta_sts: MtaStsResult = MtaStsResult(mode=None, valid=None)
    dane: DaneResult = DaneResult(tlsa=False, dnssec=False, valid=None)
    tls_rpt: TlsRptResult = TlsRptResult(present=False)
    error: str | None = None

    def to_json(self) -> dict:
        return {
            "domain": self.domain,
            "level": str(self.level),
            "checked_at": _iso(self.checked_at),
            "warnings": list(self.warnings),
            "mx": [m.to_json() for m in self.mx],
            "mta_sts": self.mta_sts.to_json(),
            "dane": self.dane.to_json(),
            "tls_rpt": self.tls_rpt.to_json(),
            "error": self.error,
        }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "AddressResult",
    "CertificateInfo",
    "DaneResult",
    "DomainResult",
    "Level",
    "MtaStsResult",
    "MxResult",
    "TlsRptResult",
    "asdict",
]
