"""Test PKI for the lab: trusted and untrusted roots, intermediates and leaf profiles."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# DER of AlgorithmIdentifier contents (OID + NULL); same length, so the TBS can be patched in
# place: cryptography refuses to sign with SHA-1, hazmat still signs SHA-1 digests.
_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("06092a864886f70d0101050500")


@dataclass
class Issued:
    """A leaf, its key and the chain the server presents (leaf first)."""

    profile: str
    names: list[str]
    key: PrivateKey
    chain: list[x509.Certificate]
    # Issuer of the leaf (whether presented or not), for DANE usage 2 records.
    issuer: x509.Certificate | None
    needs_seclevel0: bool = False
    files: tuple[Path, Path] | None = field(default=None, repr=False)

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def spki_sha256(self) -> str:
        spki = self.leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(spki).hexdigest()

    def issuer_sha256(self) -> str:
        assert self.issuer is not None
        return hashlib.sha256(self.issuer.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(cn: str, org: str = "secmail lab") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    # CN is limited to 64 characters; long names live in the SAN only.
    if len(cn) <= 64:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _der_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _resign_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """Rebuild an RSA/SHA-256 signed certificate as sha1WithRSAEncryption."""
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_SHA256_RSA) != 1:
        raise ValueError("expected exactly one sha256WithRSAEncryption identifier in the TBS")
    tbs = tbs.replace(_SHA256_RSA, _SHA1_RSA)
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = _tlv(0x30, tbs + _tlv(0x30, _SHA1_RSA) + _tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


class Pki:
    """Roots and intermediates made once per lab start; leaves issued per server profile."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._ca("secmail lab root CA", self.root_key, None, None)
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = self._ca(
            "secmail lab intermediate CA", self.inter_key, self.root, self.root_key
        )
        # RSA intermediate: only RSA signatures can be patched to SHA-1 (see _resign_sha1).
        self.rsa_inter_key = rsa.generate_private_key(65537, 2048)
        self.rsa_inter = self._ca(
            "secmail lab RSA intermediate CA", self.rsa_inter_key, self.root, self.root_key
        )
        # Issues the aia-leaf-only profile; no server presents it, only the lab's AIA URL does.
        self.aia_inter_key = ec.generate_private_key(ec.SECP256R1())
        self.aia_inter = self._ca(
            "secmail lab AIA-only intermediate CA", self.aia_inter_key, self.root, self.root_key
        )
        # Issues the aia-orphan profile: served by nobody, so its leaves stay untrusted.
        self.orphan_inter_key = ec.generate_private_key(ec.SECP256R1())
        self.orphan_inter = self._ca(
            "secmail lab orphan intermediate CA", self.orphan_inter_key, self.root, self.root_key
        )
        # Filled in by the lab once ports are bound: "{http_port}" in AIA URLs.
        self.placeholders: dict[str, str] = {}
        self.other_root_key = ec.generate_private_key(ec.SECP256R1())
        self.other_root = self._ca(
            "untrusted lab root CA", self.other_root_key, None, None, org="not in the bundle"
        )
        self.other_inter_key = ec.generate_private_key(ec.SECP256R1())
        self.other_inter = self._ca(
            "untrusted lab intermediate CA",
            self.other_inter_key,
            self.other_root,
            self.other_root_key,
            org="not in the bundle",
        )

    def _ca(
        self,
        cn: str,
        key: PrivateKey,
        issuer: x509.Certificate | None,
        issuer_key: PrivateKey | None,
        org: str = "secmail lab",
    ) -> x509.Certificate:
        subject = _name(cn, org)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - dt.timedelta(days=30))
            .not_valid_after(self.now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    (issuer_key or key).public_key()  # type: ignore[arg-type]
                ),
                False,
            )
        )
        return builder.sign(issuer_key or key, hashes.SHA256())

    def ca_bundle_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def issue(
        self, profile: str, names: list[str], zone: str, aia: list[str] | None = None
    ) -> Issued:
        now = self.now
        not_before = now - dt.timedelta(days=1)
        not_after = now + dt.timedelta(days=90)
        # A key per leaf (P-256 keys cost microseconds): a DANE 3 1 1 record must match one
        # server only, and stop matching when set-cert swaps that server's certificate.
        key: PrivateKey = ec.generate_private_key(ec.SECP256R1())
        issuer, issuer_key = self.inter, self.inter_key
        san: list[str] | None = list(names)
        extra: list[x509.Certificate] = [self.inter]
        seclevel0 = False
        self_signed = False

        if profile == "valid-wildcard":
            san = [f"*.{zone}"]
        elif profile == "leaf-only":
            extra = []
        elif profile == "self-signed":
            self_signed, extra = True, []
        elif profile == "expired":
            not_before, not_after = now - dt.timedelta(days=120), now - dt.timedelta(days=10)
        elif profile == "not-yet-valid":
            not_before, not_after = now + dt.timedelta(days=10), now + dt.timedelta(days=100)
        elif profile == "wrong-name":
            san = [f"elsewhere.{zone}"]
        elif profile == "untrusted":
            issuer, issuer_key = self.other_inter, self.other_inter_key
            # The full chain up to the foreign root: unambiguously untrusted, not incomplete.
            extra = [self.other_inter, self.other_root]
        elif profile == "expiring":
            not_before, not_after = (
                now - dt.timedelta(days=80),
                now + dt.timedelta(days=10, hours=12),
            )
        elif profile == "weak-key":
            key, seclevel0 = rsa.generate_private_key(65537, 1024), True
        elif profile == "weak-signature":
            issuer, issuer_key, extra, seclevel0 = (
                self.rsa_inter,
                self.rsa_inter_key,
                [self.rsa_inter],
                True,
            )
        elif profile == "no-san":
            san = None
        elif profile == "rsa-2048":
            key = rsa.generate_private_key(65537, 2048)
        elif profile == "aia-leaf-only":
            issuer, issuer_key, extra = self.aia_inter, self.aia_inter_key, []
        elif profile == "aia-orphan":
            issuer, issuer_key, extra = self.orphan_inter, self.orphan_inter_key, []
        elif profile != "valid":
            raise ValueError(f"unknown certificate profile {profile!r}")

        cn = (san or names)[0]
        subject = _name(cn)
        public = key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if self_signed else issuer.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    public if self_signed else issuer_key.public_key()  # type: ignore[arg-type]
                ),
                False,
            )
        )
        if san is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), False
            )
        if aia:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(self._fill(url)),
                        )
                        for url in aia
                    ]
                ),
                False,
            )
        leaf = builder.sign(key if self_signed else issuer_key, hashes.SHA256())
        if profile == "weak-signature":
            assert isinstance(issuer_key, rsa.RSAPrivateKey)
            leaf = _resign_sha1(leaf, issuer_key)
        return Issued(
            profile=profile,
            names=san or names,
            key=key,
            chain=[leaf, *extra],
            issuer=None if self_signed else issuer,
            needs_seclevel0=seclevel0,
        )

    def _fill(self, text: str) -> str:
        for key, value in self.placeholders.items():
            text = text.replace("{" + key + "}", value)
        return text

    def write(self, issued: Issued, directory: Path, stem: str) -> tuple[Path, Path]:
        """PEM files for ssl.SSLContext.load_cert_chain (it only reads files)."""
        directory.mkdir(parents=True, exist_ok=True)
        certfile = directory / f"{stem}.pem"
        keyfile = directory / f"{stem}.key"
        certfile.write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in issued.chain)
        )
        keyfile.write_bytes(
            issued.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        issued.files = (certfile, keyfile)
        return certfile, keyfile
