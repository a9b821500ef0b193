"""Certificates presented per profile, and the lab's level claims checked with cryptography."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .util import presented_chain, resolver, starttls

# Scenario -> the MX host name as published (validation uses it, not a CNAME target).
SINGLE_MX = {
    "verified-ipv6": "mx.verified-ipv6.lab.test",
    "verified-wildcard": "wildmx.lab.test",
    "verified-rsa": "mx.verified-rsa.lab.test",
    "implicit-mx": "implicit-mx.lab.test",
    "mx-cname": "mx.mx-cname.lab.test",
    "encrypted-self-signed": "mx.encrypted-self-signed.lab.test",
    "encrypted-expired": "mx.encrypted-expired.lab.test",
    "encrypted-not-yet-valid": "mx.encrypted-not-yet-valid.lab.test",
    "encrypted-wrong-name": "mx.encrypted-wrong-name.lab.test",
    "encrypted-untrusted": "mx.encrypted-untrusted.lab.test",
    "encrypted-incomplete-chain": "mx.encrypted-incomplete-chain.lab.test",
    "encrypted-no-san": "mx.encrypted-no-san.lab.test",
    "encrypted-cname-target-cert": "mx.encrypted-cname-target-cert.lab.test",
    "encrypted-wildcard-two-labels": "a.b.lab.test",
    "cert-expiring": "mx.cert-expiring.lab.test",
    "weak-key": "mx.weak-key.lab.test",
    "weak-signature": "mx.weak-signature.lab.test",
}


def _verifies(lab, chain: list[x509.Certificate], host: str) -> bool:
    with open(lab.ca_bundle, "rb") as f:
        store = Store(x509.load_pem_x509_certificates(f.read()))
    verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName(host))
    try:
        verifier.verify(chain[0], chain[1:])
    except VerificationError:
        return False
    return True


def _chain(lab, server: str, sni: str | None = None) -> list[x509.Certificate]:
    client, sock = starttls(lab, server, sni=sni)
    try:
        return presented_chain(sock)
    finally:
        client.quit()


@pytest.mark.parametrize("scenario", sorted(SINGLE_MX))
def test_it_makes_the_claimed_level_true_for_cryptographys_verifier(lab, scenario):
    chain = _chain(lab, scenario, sni=SINGLE_MX[scenario])
    expected = lab.expect(scenario)["level"] == "verified"
    assert _verifies(lab, chain, SINGLE_MX[scenario]) is expected


def test_it_presents_leaf_and_intermediate_or_only_the_leaf(lab):
    assert len(_chain(lab, "verified-mx1")) == 2
    assert len(_chain(lab, "encrypted-incomplete-chain")) == 1
    assert len(_chain(lab, "encrypted-self-signed")) == 1
    untrusted = _chain(lab, "encrypted-untrusted")
    assert len(untrusted) == 3 and untrusted[-1].subject == untrusted[-1].issuer


def test_it_makes_weak_and_expiring_certificates(lab):
    weak = _chain(lab, "weak-key")[0].public_key()
    assert isinstance(weak, rsa.RSAPublicKey) and weak.key_size == 1024
    assert isinstance(_chain(lab, "weak-signature")[0].signature_hash_algorithm, hashes.SHA1)
    assert isinstance(_chain(lab, "verified-rsa")[0].public_key(), rsa.RSAPublicKey)
    now = dt.datetime.now(dt.UTC)
    assert 9 <= (_chain(lab, "cert-expiring")[0].not_valid_after_utc - now).days <= 11
    assert _chain(lab, "encrypted-expired")[0].not_valid_after_utc < now
    assert _chain(lab, "encrypted-not-yet-valid")[0].not_valid_before_utc > now
    no_san = _chain(lab, "encrypted-no-san")[0]
    with pytest.raises(x509.ExtensionNotFound):
        no_san.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_it_names_only_the_cname_target(lab):
    leaf = _chain(lab, "encrypted-cname-target-cert")[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["relay.encrypted-cname-target-cert.lab.test"]


@pytest.mark.parametrize(
    ("scenario", "matches"),
    [
        ("dane-valid", True),
        ("dane-usage2", True),
        ("dane-mismatch", False),
        ("dane-unsigned", True),
    ],
)
def test_it_publishes_tlsa_records_that_match_as_claimed(lab, scenario, matches):
    host = f"mx.{lab.domain(scenario)}"
    tlsa = resolver(lab).resolve(f"_25._tcp.{host}", "TLSA")[0]
    chain = _chain(lab, scenario, sni=host)
    if tlsa.selector == 1:
        candidates = [
            c.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            for c in chain[:1]
        ]
    else:
        candidates = [c.public_bytes(Encoding.DER) for c in chain[1:]]
    digests = {hashlib.sha256(c).digest() for c in candidates}
    assert (tlsa.cert in digests) is matches
