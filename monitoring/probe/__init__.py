"""secmail's probe library: a domain name in, facts and a readiness level out. No Django here."""

from __future__ import annotations

from .config import ProbeConfig, parse_resolvers
from .engine import probe_batch, probe_domain, probe_domains
from .model import (
    AddressResult,
    CertificateInfo,
    DaneResult,
    DomainResult,
    Level,
    MtaStsResult,
    MxResult,
    TlsRptResult,
)
from .names import normalize_domain

__all__ = [
    "AddressResult",
    "CertificateInfo",
    "DaneResult",
    "DomainResult",
    "Level",
    "MtaStsResult",
    "MxResult",
    "ProbeConfig",
    "TlsRptResult",
    "normalize_domain",
    "parse_resolvers",
    "probe_batch",
    "probe_domain",
    "probe_domains",
]
