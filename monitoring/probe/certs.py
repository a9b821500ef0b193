"""Certificate facts and validation: what the server presented, judged by the web PKI profile."""

from __future__ import annotations

import hashlib
import math
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store, VerificationError

from .model import CertificateInfo

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_HASHES = {"sha1", "md5"}
MAX_CHAIN = 10


class TrustStore:
    """Trusted roots: the cryptography Store plus the certificates, for chain building by hand."""

    def __init__(self, roots: list[x509.Certificate]) -> None:
        self.store = Store(roots)
        self.roots = tuple(roots)
        self.by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for root in roots:
            self.by_subject.setdefault(root.subject, []).append(root)


def load_trust_store(path: str | None) -> TrustStore:
    """The roots of a PEM bundle; read again only when the file changes."""
    if path is None:
        import certifi

        path = certifi.where()
    status = os.stat(path)
    return _read_trust_store(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=8)
def _read_trust_store(path: str, mtime_ns: int, size: int) -> TrustStore:
    # Certificates that do not parse are skipped: one bad entry must not empty the store.
    with open(path, "rb") as handle:
        data = handle.read()
    roots: list[x509.Certificate] = []
    marker = b"-----END CERTIFICATE-----"
    for block in data.split(marker):
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start < 0:
            continue
        try:
            with warnings.catch_warnings():
                # Some long-lived roots break RFC 5280 in harmless ways (negative serials).
                warnings.simplefilter("ignore")
                roots.append(x509.load_pem_x509_certificate(block[start:] + marker))
        except ValueError:
            continue
    if not roots:
        raise ValueError(f"no certificate in the trust bundle {path}")
    return TrustStore(roots)


class IntermediatePool:
    """CA certificates seen in the chains servers presented.

    A server that omits its intermediate cannot be verified, but if another server presented
    that intermediate we can show the chain would build with it: that is an incomplete chain,
    not an unknown CA. Browsers keep the same kind of cache. The pool only classifies a failure;
    it never makes a chain valid.

    Bounded with least-recently-seen eviction, so hostile chains can neither grow it without
    end nor freeze it full: real intermediates are presented again by the many servers that
    use them, which keeps them fresh while one-off junk ages out. Each subject keeps only a few
    certificates, so a flood of look-alikes cannot crowd out the real one or make chain
    building try thousands of signatures.
    """

    MAX_CERTIFICATES = 5000
    MAX_PER_SUBJECT = 8
    # Certificates taken from one presented chain; real chains carry one or two.
    MAX_PER_CHAIN = 8

    def __init__(self, max_certificates: int | None = None) -> None:
        self.max_certificates = max_certificates or self.MAX_CERTIFICATES
        self._by_fingerprint: OrderedDict[bytes, x509.Certificate] = OrderedDict()
        self._by_subject: dict[x509.Name, OrderedDict[bytes, x509.Certificate]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_fingerprint)

    def add_chain(self, chain: Iterable[x509.Certificate]) -> None:
        taken = 0
        for cert in chain:
            if taken >= self.MAX_PER_CHAIN:
                return
            taken += 1
            if not _is_ca(cert):
                continue
            fingerprint = cert.fingerprint(hashes.SHA256())
            with self._lock:
                self._add(fingerprint, cert)

    def _add(self, fingerprint: bytes, cert: x509.Certificate) -> None:
        same_subject = self._by_subject.setdefault(cert.subject, OrderedDict())
        if fingerprint in self._by_fingerprint:
            self._by_fingerprint.move_to_end(fingerprint)
            same_subject.move_to_end(fingerprint)
            return
        self._by_fingerprint[fingerprint] = cert
        same_subject[fingerprint] = cert
        if len(same_subject) > self.MAX_PER_SUBJECT:
            self._forget(next(iter(same_subject)))
        while len(self._by_fingerprint) > self.max_certificates:
            self._forget(next(iter(self._by_fingerprint)))

    def _forget(self, fingerprint: bytes) -> None:
        cert = self._by_fingerprint.pop(fingerprint)
        same_subject = self._by_subject[cert.subject]
        same_subject.pop(fingerprint, None)
        if not same_subject:
            del self._by_subject[cert.subject]

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        with self._lock:
            return list(self._by_subject.get(cert.issuer, {}).values())

    def __contains__(self, cert: x509.Certificate) -> bool:
        return cert.fingerprint(hashes.SHA256()) in self._by_fingerprint


# Shared by the batches of one process (a worker), so intermediates learned from one batch
# classify the chains of the next.
PROCESS_POOL = IntermediatePool()


def parse_chain(chain_der: Iterable[bytes]) -> list[x509.Certificate]:
    certs = []
    for der in chain_der:
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            break
    return certs


def analyze(
    chain_der: tuple[bytes, ...],
    host: str,
    trust: TrustStore,
    now: datetime,
    pool: IntermediatePool | None = None,
) -> tuple[CertificateInfo, bool] | None:
    """Facts about the presented chain for `host`, and whether it is valid for a verifying sender.

    Returns None when no certificate could be parsed.
    """
    chain = parse_chain(chain_der)
    if not chain:
        return None
    leaf = chain[0]
    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    expired = now > not_after
    not_yet_valid = now < not_before
    self_signed = _self_signed(leaf)
    names = dns_names(leaf)
    hostname_match = any(name_matches(pattern, host) for pattern in names)
    valid = _verify(chain, trust, host, now)
    # A chain valid for the name today certainly leads to a trusted root; only a failing one
    # needs the slower search that ignores dates and names.
    path = None if valid else _build_path(chain, trust, pool=None)
    trusted = valid or path is not None
    # An expired intermediate breaks the chain as surely as an expired leaf; `expired` itself
    # stays about the leaf, as the JSON interface defines it.
    upper = path[1:] if path else []
    chain_expired = expired or any(now > c.not_valid_after_utc for c in upper)
    chain_not_yet_valid = not_yet_valid or any(now < c.not_valid_before_utc for c in upper)

    errors: list[str] = []
    if chain_expired:
        errors.append("expired")
    if chain_not_yet_valid:
        errors.append("not-yet-valid")
    if not trusted:
        if self_signed:
            errors.append("self-signed")
        elif pool is not None and _build_path(chain, trust, pool=pool) is not None:
            errors.append("incomplete-chain")
        else:
            errors.append("untrusted")
    if not hostname_match:
        errors.append("hostname-mismatch")
    key = key_description(leaf.public_key())
    if _weak_key(leaf.public_key()):
        errors.append("weak-key")
    if any(_weak_signature(cert) for cert in chain if not _self_signed(cert) or cert is leaf):
        errors.append("weak-signature")
    if not valid and not errors:
        # The chain builds, names and dates are right, yet the web PKI profile refuses it
        # (a CA without basicConstraints, a leaf without serverAuth, an expired intermediate...).
        errors.append("invalid-chain")

    info = CertificateInfo(
        subject=leaf.subject.rfc4514_string(),
        san=tuple(names),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=not_before,
        not_after=not_after,
        days_left=math.floor((not_after - now) / timedelta(days=1)),
        trusted=trusted,
        hostname_match=hostname_match,
        self_signed=self_signed,
        expired=expired,
        key=key,
        signature_algorithm=_signature_name(leaf),
        sha256=hashlib.sha256(chain_der[0]).hexdigest(),
        errors=tuple(errors),
        chain_der=tuple(chain_der),
    )
    return info, valid


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [name.lower().rstrip(".") for name in san.get_values_for_type(x509.DNSName)]


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 §6.4: exact match, or a wildcard that is the whole left-most label only."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if not pattern or not host:
        return False
    if "*" not in pattern:
        return pattern == host
    first, _, rest = pattern.partition(".")
    if first != "*" or "*" in rest or rest.count(".") < 1:
        # Partial-label wildcards (f*.example.com) and wildcards on a bare suffix are refused.
        return False
    host_first, _, host_rest = host.partition(".")
    return bool(host_first) and host_rest == rest


def _verify(chain: list[x509.Certificate], trust: TrustStore, host: str, now: datetime) -> bool:
    try:
        subject = DNSName(host)
    except ValueError:
        return False
    verifier = (
        PolicyBuilder()
        .store(trust.store)
        .time(now)
        .max_chain_depth(8)
        .build_server_verifier(subject)
    )
    try:
        verifier.verify(chain[0], chain[1:MAX_CHAIN])
    except (VerificationError, ValueError):
        return False
    return True


def _build_path(
    chain: list[x509.Certificate], trust: TrustStore, pool: IntermediatePool | None
) -> list[x509.Certificate] | None:
    """A signature path from the leaf to a trusted root, ignoring dates, names and policy.

    That is what `trusted` reports: whether the chain leads to a root in the store at all.
    """
    path, complete = _walk(chain, trust, pool)
    return path if complete else None


def missing_issuer(
    chain: list[x509.Certificate], trust: TrustStore, pool: IntermediatePool | None
) -> x509.Certificate | None:
    """The certificate whose issuer is nowhere to be found, when the chain stops short.

    None when the chain reaches a trusted root, or ends in a self-signed certificate (an
    unknown root is not a missing piece).
    """
    path, complete = _walk(chain, trust, pool)
    if complete or _self_signed(path[-1]):
        return None
    return path[-1]


def _walk(
    chain: list[x509.Certificate], trust: TrustStore, pool: IntermediatePool | None
) -> tuple[list[x509.Certificate], bool]:
    roots = trust.by_subject
    presented = chain[1:MAX_CHAIN]
    path = [chain[0]]
    current = chain[0]
    for _ in range(MAX_CHAIN):
        for root in roots.get(current.issuer, ()):
            if _signed_by(current, root):
                return path, True
        if _self_signed(current):
            # A self-signed certificate equal to a store root counts as reaching it.
            return path, any(current == root for root in roots.get(current.subject, ()))
        candidates = [c for c in presented if c.subject == current.issuer and c not in path]
        if pool is not None:
            candidates += [c for c in pool.issuers_of(current) if c not in path]
        for candidate in candidates:
            if _signed_by(current, candidate):
                path.append(candidate)
                current = candidate
                break
        else:
            return path, False
    return path, False


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _signed_by(cert, cert)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def key_description(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC-{key.curve.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA-{key.key_size}"
    return type(key).__name__


def _weak_key(key: object) -> bool:
    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size < MIN_RSA_BITS
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size < MIN_EC_BITS
    return isinstance(key, dsa.DSAPublicKey)


def _weak_signature(cert: x509.Certificate) -> bool:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return False
    return algorithm is not None and algorithm.name in WEAK_HASHES


def _signature_name(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def spki_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
