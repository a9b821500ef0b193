"""DANE for SMTP (RFC 7672): match TLSA records against the chain an MX host presented."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from .certs import _signed_by, dns_names, name_matches, parse_chain, spki_der

DANE_TA = 2
DANE_EE = 3
# PKIX-TA (0) and PKIX-EE (1) are unusable for SMTP (RFC 7672 §3.1.3).
USABLE = {DANE_TA, DANE_EE}


@dataclass(frozen=True, slots=True)
class Tlsa:
    usage: int
    selector: int
    mtype: int
    data: bytes


def tlsa_name(host: str) -> str:
    # Always port 25: the record describes SMTP delivery, whatever port a lab probes on.
    return f"_25._tcp.{host}"


def _digest(mtype: int, data: bytes) -> bytes | None:
    if mtype == 0:
        return data
    if mtype == 1:
        return hashlib.sha256(data).digest()
    if mtype == 2:
        return hashlib.sha512(data).digest()
    return None


def _matches(record: Tlsa, cert: x509.Certificate, der: bytes) -> bool:
    if record.selector == 0:
        selected = der
    elif record.selector == 1:
        selected = spki_der(cert)
    else:
        return False
    digest = _digest(record.mtype, selected)
    return digest is not None and digest == record.data


def dane_match(
    records: tuple[Tlsa, ...],
    chain_der: tuple[bytes, ...],
    names: tuple[str, ...],
    now: datetime,
) -> bool:
    """True when a usable TLSA record authenticates this chain for one of `names`.

    DANE-EE(3) binds the server key itself, so names and dates are not checked (§3.1.1).
    DANE-TA(2) names a trust anchor in the presented chain; the leaf must chain to it by
    signature, be within its dates and match the MX host name (§3.1.2, §3.2.2).
    """
    chain = parse_chain(chain_der)
    if not chain:
        return False
    leaf = chain[0]
    for record in records:
        if record.usage == DANE_EE and _matches(record, leaf, chain_der[0]):
            return True
    for record in records:
        if record.usage != DANE_TA:
            continue
        for index in range(1, len(chain)):
            if not _matches(record, chain[index], chain_der[index]):
                continue
            if _chains_to(chain, index) and _leaf_ok(leaf, names, now):
                return True
    return False


def _chains_to(chain: list[x509.Certificate], anchor: int) -> bool:
    return all(_signed_by(chain[i], chain[i + 1]) for i in range(anchor))


def _leaf_ok(leaf: x509.Certificate, names: tuple[str, ...], now: datetime) -> bool:
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        return False
    presented = dns_names(leaf)
    return any(name_matches(pattern, name) for pattern in presented for name in names)
