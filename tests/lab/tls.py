"""Server-side TLS for lab servers: certificates per SNI name, swappable at runtime."""

from __future__ import annotations

import ssl
from pathlib import Path

from .certs import Issued, Pki
from .world import CertSpec


def name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


class TlsEndpoint:
    """The certificates of one server and the SSL contexts built from them.

    Rebuilt on every change so a connection takes the contexts current at its handshake.
    """

    def __init__(
        self, server: str, pki: Pki, certs: list[CertSpec], zone: str, cert_dir: Path
    ) -> None:
        self.server = server
        self.pki = pki
        self.certs = [CertSpec(c.profile, list(c.names), list(c.aia)) for c in certs]
        self.zone = zone
        self.cert_dir = cert_dir
        self.legacy = False
        # Only anonymous (aNULL) suites: the handshake completes without any certificate.
        self.anonymous = False
        self.generation = 0
        self.issued: list[Issued] = []
        self._contexts: list[ssl.SSLContext] = []

    def rebuild(self, *, legacy: bool | None = None, anonymous: bool | None = None) -> None:
        if legacy is not None:
            self.legacy = legacy
        if anonymous is not None:
            self.anonymous = anonymous
        self.generation += 1
        self.issued = [self.pki.issue(c.profile, c.names, self.zone, c.aia) for c in self.certs]
        # SNI switches certificates but keeps the first context's protocol and security
        # settings, so every context of a server shares the weakest settings it needs.
        seclevel0 = self.legacy or any(i.needs_seclevel0 for i in self.issued)
        contexts = []
        for index, issued in enumerate(self.issued):
            certfile, keyfile = self.pki.write(
                issued, self.cert_dir, f"{self.server}-{index}-g{self.generation}"
            )
            contexts.append(self._context(certfile, keyfile, seclevel0))
        if len(contexts) > 1:
            contexts[0].sni_callback = self._pick
        self._contexts = contexts

    def _context(self, certfile: Path, keyfile: Path, seclevel0: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.legacy:
            # OpenSSL 3 only negotiates TLS 1.0/1.1 at security level 0 (SHA-1 MACs, sigalgs).
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        if self.anonymous:
            # TLS 1.3 has no anonymous suites; a server like this one speaks TLS 1.2 at most.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("aNULL:!eNULL:@SECLEVEL=0")
        elif seclevel0:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(certfile, keyfile)
        return ctx

    def _pick(self, sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        if not server_name:
            return
        for issued, ctx in zip(self.issued, self._contexts, strict=True):
            if any(name_matches(n, server_name) for n in issued.names):
                if ctx is not self._contexts[0]:
                    sslobj.context = ctx
                return

    def context(self) -> ssl.SSLContext:
        return self._contexts[0]

    def set_profile(self, profile: str, name: str | None = None) -> None:
        """Swap the profile of every certificate (or of the one covering ``name``)."""
        changed = False
        for cert in self.certs:
            if name is None or any(name_matches(n, name) for n in cert.names):
                cert.profile = profile
                changed = True
        if not changed:
            raise ValueError(f"{self.server} has no certificate for {name}")
        self.rebuild()
