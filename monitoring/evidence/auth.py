"""SPF (pyspf) and DKIM (dkimpy) checks of a received message, resolved like the probe does.

Plain Python (no Django). Both libraries take their DNS from a function we provide; one small
adapter (`AuthDns`) answers them with dnspython through the configured resolvers
(SECMAIL_DNS_RESOLVERS), with a deadline on every question, so a check never leaves the
resolvers the operator chose and never hangs.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import dkim
import dkim.util
import dns.exception
import dns.nameserver
import dns.resolver
import spf

log = logging.getLogger(__name__)

# Deadline of one DNS question; SPF's whole evaluation (up to ten lookups) gets SPF_SECONDS.
DNS_SECONDS = 5.0
SPF_SECONDS = 10.0
# More signatures than this are not looked at: each costs a DNS question.
MAX_DKIM_SIGNATURES = 5


class AuthDns:
    """Answers pyspf's and dkimpy's DNS questions through the given resolvers."""

    def __init__(self, resolvers: Sequence[tuple[str, int]] = (), timeout: float = DNS_SECONDS):
        if resolvers:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ip, port) for ip, port in resolvers
            ]
        else:
            self.resolver = dns.resolver.Resolver()
        self.timeout = timeout

    def _resolve(self, name: str, rdtype: str, timeout: float) -> dns.resolver.Answer | None:
        try:
            return self.resolver.resolve(
                name, rdtype, lifetime=min(timeout, self.timeout), search=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None

    def spf_lookup(
        self, name: str, qtype: str, timeout: float
    ) -> list[tuple[tuple[str, str], object]]:
        """pyspf's DNSLookup contract: [((name, type), value)], TempError on failure."""
        try:
            answer = self._resolve(name, qtype, timeout)
        except dns.exception.DNSException as exc:  # timeouts and SERVFAIL (NoNameservers) too
            raise spf.TempError(f"DNS {type(exc).__name__}") from None
        if answer is None:
            return []
        values: list[tuple[tuple[str, str], object]] = []
        for rdata in answer:
            if qtype in ("A", "AAAA"):
                values.append(((name, qtype), rdata.address))
            elif qtype == "MX":
                values.append(((name, qtype), (rdata.preference, rdata.exchange)))
            elif qtype == "PTR":
                values.append(((name, qtype), rdata.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                values.append(((name, qtype), rdata.strings))
        return values

    def dkim_txt(self, name: bytes | str, timeout: float = DNS_SECONDS) -> bytes | None:
        """dkimpy's dnsfunc contract: the first TXT record's strings joined, or None."""
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            answer = self._resolve(text, "TXT", timeout)
        except dns.exception.DNSException:
            return None
        if answer is None:
            return None
        for rdata in answer:
            return b"".join(rdata.strings)
        return None


# pyspf resolves through its module-level DNSLookup; route it to the AuthDns of the check
# running in this thread or task, so every SPF check uses the resolvers its caller passed.
_current_dns: contextvars.ContextVar[AuthDns | None] = contextvars.ContextVar(
    "secmail_spf_dns", default=None
)


def _spf_dns_lookup(
    name: str, qtype: str, strict: bool = True, timeout: float = DNS_SECONDS
) -> list[tuple[tuple[str, str], object]]:
    resolver = _current_dns.get()
    if resolver is None:
        raise spf.TempError("no resolver configured for SPF")
    return resolver.spf_lookup(name, qtype, timeout)


spf.DNSLookup = _spf_dns_lookup


@dataclass(frozen=True, slots=True)
class SpfOutcome:
    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    domain: str  # the MAIL FROM domain checked ("" when the sender was null)
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class DkimOutcome:
    result: str  # pass, fail, none (no signature), temperror
    # d= of every signature that verified, then of the others, in header order.
    valid_domains: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        """The signing domain worth showing: the first valid one, else the first seen."""
        return (self.valid_domains or self.domains or ("",))[0]


def mail_from_domain(mail_from: str | None) -> str:
    """The domain of an envelope sender, lowercased; "" for the null sender `<>`."""
    if not mail_from:
        return ""
    address = mail_from.strip().strip("<>")
    _, at, domain = address.rpartition("@")
    return domain.strip().rstrip(".").lower() if at else ""


def check_spf(*, ip: str, mail_from: str | None, helo: str, resolver: AuthDns) -> SpfOutcome:
    """RFC 7208 check of the MAIL FROM identity (the null sender has none to check)."""
    domain = mail_from_domain(mail_from)
    if not domain:
        return SpfOutcome(result="none", domain="", explanation="null sender")
    token = _current_dns.set(resolver)
    try:
        result, explanation = spf.check2(
            i=ip, s=mail_from.strip().strip("<>"), h=helo or domain, querytime=SPF_SECONDS
        )
    except Exception as exc:  # pyspf raises for odd input; a check must never crash the receiver
        return SpfOutcome(result="temperror", domain=domain, explanation=type(exc).__name__)
    finally:
        _current_dns.reset(token)
    return SpfOutcome(result=str(result).lower(), domain=domain, explanation=str(explanation))


def check_dkim(*, message: bytes, resolver: AuthDns) -> DkimOutcome:
    """Verify each DKIM-Signature (at most MAX_DKIM_SIGNATURES) of a raw message."""
    try:
        verifier = dkim.DKIM(message, timeout=int(DNS_SECONDS))
    except Exception:
        return DkimOutcome(result="fail")
    indexes = [
        index
        for index, (name, _) in enumerate(verifier.headers)
        if name.lower() == b"dkim-signature"
    ][:MAX_DKIM_SIGNATURES]
    if not indexes:
        return DkimOutcome(result="none")
    domains: list[str] = []
    valid: list[str] = []
    temporary = False
    for position, header_index in enumerate(indexes):
        value = verifier.headers[header_index][1]
        try:
            tags = dkim.util.parse_tag_value(value)
            domain = tags.get(b"d", b"").decode("ascii").strip().rstrip(".").lower()
        except Exception:
            domain = ""
        domains.append(domain)
        try:
            if verifier.verify(idx=position, dnsfunc=resolver.dkim_txt):
                valid.append(domain)
        except dkim.KeyFormatError:
            continue
        except dkim.DKIMException as exc:
            temporary = temporary or "dns" in str(exc).lower()
        except Exception:  # dkimpy raises many types on hostile input: that signature fails
            log.debug("DKIM signature %d of %s unverifiable", position, domain, exc_info=True)
    if valid:
        return DkimOutcome(result="pass", valid_domains=tuple(valid), domains=tuple(domains))
    return DkimOutcome(result="temperror" if temporary else "fail", domains=tuple(domains))


def belongs_to(domain: str, registered: Sequence[str]) -> bool:
    """True when `domain` is one of `registered` or below one of them (same owner in DNS)."""
    domain = domain.lower().rstrip(".")
    return any(domain == name or domain.endswith("." + name) for name in registered)


def authentication(
    *, spf_outcome: SpfOutcome, dkim_outcome: DkimOutcome, registered: Sequence[str]
) -> tuple[bool, str]:
    """Whether a message is authenticated for one of the `registered` domains, and why (not).

    Authenticated: SPF pass for a MAIL FROM domain of the organization, or a valid DKIM
    signature whose d= is one of its domains (a subdomain of one counts: same owner).
    """
    if spf_outcome.result == "pass" and belongs_to(spf_outcome.domain, registered):
        return True, f"SPF pass for {spf_outcome.domain}"
    for domain in dkim_outcome.valid_domains:
        if belongs_to(domain, registered):
            return True, f"valid DKIM signature of {domain}"
    if spf_outcome.domain and not belongs_to(spf_outcome.domain, registered):
        spf_part = f"MAIL FROM domain {spf_outcome.domain} is not one of your domains"
    elif spf_outcome.domain:
        spf_part = f"SPF {spf_outcome.result} for {spf_outcome.domain}"
    else:
        spf_part = "no MAIL FROM domain (null sender)"
    if dkim_outcome.valid_domains:
        dkim_part = "DKIM signed only by " + ", ".join(dkim_outcome.valid_domains)
    elif dkim_outcome.result == "none":
        dkim_part = "no DKIM signature"
    else:
        dkim_part = f"DKIM {dkim_outcome.result}"
    return False, f"not authenticated for your domains: {spf_part}; {dkim_part}"
