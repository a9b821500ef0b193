"""Fetching a missing intermediate from the leaf's AIA caIssuers URL (RFC 5280 §4.2.2.1).

Only to tell an incomplete chain from an unknown CA: a fetched certificate never makes a
chain valid for the level, because a sending MTA does not fetch it either.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from .config import ProbeConfig
from .http import http_get
from .lookup import Resolver, addresses

MAX_ISSUER_BYTES = 64 * 1024


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
            return list(load(body))
        except ValueError:
            continue
    return []


async def fetch_issuers(
    url: str, resolver: Resolver, config: ProbeConfig
) -> list[x509.Certificate]:
    """GET one caIssuers URL through our resolver; an empty list on any failure."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme != "http" or not host:
        return []
    try:
        port = parts.port or 80
    except ValueError:
        return []
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        ips: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
    except ValueError:
        _, ips = await addresses(resolver, host)
    for ip in ips[:2]:
        try:
            async with asyncio.timeout(config.probe_timeout):
                response = await http_get(
                    ip,
                    port,
                    host,
                    path,
                    tls=False,
                    connect_timeout=config.connect_timeout,
                    max_body=MAX_ISSUER_BYTES,
                )
        except (OSError, ssl.SSLError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            continue
        if response.status == 200:
            return parse_issuers(response.body)
    return []
