"""Fetching a missing intermediate from the leaf's AIA caIssuers URL (RFC 5280 §4.2.2.1).

Only to tell an incomplete chain from an unknown CA: a fetched certificate never makes a
chain valid for the level, because a sending MTA does not fetch it either. The URL comes from
a certificate anyone can make, so it is treated as hostile: plain HTTP on port 80 only, to
public addresses only, bounded in size and time, and nothing it does escapes this module.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from .config import ProbeConfig
from .http import HttpResponse, first_response
from .lookup import Resolver, addresses

MAX_ISSUER_BYTES = 64 * 1024
MAX_URL_LENGTH = 2048
# At most this many certificates are taken from one answer (a PKCS #7 bundle may hold more).
MAX_ISSUERS_PER_URL = 4
AIA_PORT = 80


@dataclass(frozen=True, slots=True)
class AiaFetch:
    """What one caIssuers URL gave: certificates, or an error code and a detail."""

    url: str
    issuers: tuple[x509.Certificate, ...] = ()
    error: str | None = None
    detail: str | None = None


def ca_issuer_urls(cert: x509.Certificate) -> list[str]:
    """The plain-HTTP caIssuers URLs of a certificate (HTTPS there would be circular)."""
    try:
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        description.access_location.value
        for description in aia.value
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
        and description.access_location.value.lower().startswith("http://")
    ]


def parse_issuers(body: bytes) -> list[x509.Certificate]:
    """A DER or PEM certificate, or a PKCS #7 bundle of them, as CAs publish them."""
    loaders = (
        lambda data: [x509.load_der_x509_certificate(data)],
        x509.load_pem_x509_certificates,
        pkcs7.load_der_pkcs7_certificates,
        pkcs7.load_pem_pkcs7_certificates,
    )
    for load in loaders:
        try:
            return list(load(body))[:MAX_ISSUERS_PER_URL]
        except (ValueError, UnsupportedAlgorithm):
            continue
    return []


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    path: str


def _target(url: str, config: ProbeConfig) -> _Target | str:
    """Where a URL points, or why it will not be fetched."""
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable():
        return "malformed URL"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or AIA_PORT
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme.lower() != "http" or not host or any(c in host for c in " /\\@"):
        return "not a plain-HTTP URL with a host"
    if port != AIA_PORT and not config.allow_nonpublic:
        return f"port {port} refused: AIA fetches use port {AIA_PORT} only"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(host, port, path)


async def fetch_issuers(url: str, resolver: Resolver, config: ProbeConfig) -> AiaFetch:
    """GET one caIssuers URL through our resolver. Never raises for what the URL or server does."""
    target = _target(url, config)
    if isinstance(target, str):
        return AiaFetch(url, error="aia-url-refused", detail=target)
    try:
        ips: tuple[str, ...] = (str(ipaddress.ip_address(target.host)),)
    except ValueError:
        _, ips = await addresses(resolver, target.host)
    if not ips:
        return AiaFetch(url, error="aia-no-address", detail=f"{target.host} has no address")
    allowed = tuple(ip for ip in ips if config.may_connect(ip))
    if not allowed:
        return AiaFetch(url, error="non-public-address", detail=f"{ips[0]} is not public")
    response = await first_response(
        allowed[:2],
        target.port,
        target.host,
        target.path,
        tls=False,
        config=config,
        max_body=MAX_ISSUER_BYTES,
    )
    if not isinstance(response, HttpResponse):
        return AiaFetch(url, error="aia-fetch-failed", detail=response)
    if response.status != 200:
        return AiaFetch(url, error="aia-fetch-failed", detail=f"HTTP {response.status}")
    issuers = parse_issuers(response.body)
    if not issuers:
        return AiaFetch(url, error="aia-not-a-certificate", detail="no certificate in body")
    return AiaFetch(url, issuers=tuple(issuers))
