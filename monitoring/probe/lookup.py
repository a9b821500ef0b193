"""DNS questions the probe asks (MX, A/AAAA, TXT, TLSA), errors told apart, answers shared."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

from .config import ProbeConfig

MAX_CNAME_CHAIN = 8


class Outcome(enum.StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    TIMEOUT = "dns-timeout"
    SERVFAIL = "dns-servfail"


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    records: tuple = ()
    # The AD flag of the response: the resolver validated it with DNSSEC.
    authenticated: bool = False
    # The name the answer was found at, after CNAMEs.
    canonical: str = ""


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    host: str


class Resolver:
    """Answers questions through the configured resolvers; one lookup per (name, type) per batch."""

    def __init__(self, config: ProbeConfig) -> None:
        if config.resolvers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ip, port) for ip, port in config.resolvers
            ]
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = config.dns_timeout
        resolver.timeout = min(2.0, config.dns_timeout)
        resolver.cache = None
        # DO asks a validating resolver for the AD bit (RFC 6840 §5.7); AD in the query does too
        # for resolvers that do not look at DO.
        resolver.use_edns(0, dns.flags.DO, 1232)
        resolver.flags = dns.flags.RD | dns.flags.AD
        self._resolver = resolver
        self._in_flight = asyncio.Semaphore(config.max_dns_queries)
        self._pending: dict[tuple[str, str], asyncio.Future[Answer]] = {}

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (name.lower().rstrip("."), rdtype)
        future = self._pending.get(key)
        if future is None:
            future = asyncio.ensure_future(self._follow(key[0], rdtype))
            self._pending[key] = future
        return await asyncio.shield(future)

    async def _follow(self, name: str, rdtype: str) -> Answer:
        # Recursive resolvers chase CNAMEs themselves; an authoritative-only or partial answer may
        # stop at the CNAME, so chase what is left here, with a bound against loops.
        current = name
        authenticated = True
        for _ in range(MAX_CNAME_CHAIN):
            answer = await self._ask(current, rdtype)
            authenticated = authenticated and answer.authenticated
            if answer.outcome is not Outcome.OK or answer.records:
                return Answer(
                    answer.outcome,
                    answer.records,
                    authenticated and answer.authenticated,
                    answer.canonical or current,
                )
            if not answer.canonical or answer.canonical == current:
                return Answer(Outcome.NODATA, (), authenticated, current)
            current = answer.canonical
        return Answer(Outcome.SERVFAIL, (), False, current)

    async def _ask(self, name: str, rdtype: str) -> Answer:
        try:
            async with self._in_flight:
                result = await self._resolver.resolve(
                    name + ".", rdtype, raise_on_no_answer=False, search=False
                )
        except dns.resolver.NXDOMAIN:
            return Answer(Outcome.NXDOMAIN)
        except dns.resolver.NoNameservers:
            return Answer(Outcome.SERVFAIL)
        except dns.exception.Timeout:
            return Answer(Outcome.TIMEOUT)
        except (dns.resolver.YXDOMAIN, dns.exception.DNSException, OSError, ValueError):
            return Answer(Outcome.SERVFAIL)
        response = result.response
        authenticated = bool(response.flags & dns.flags.AD)
        canonical = result.canonical_name.to_text(omit_final_dot=True).lower()
        if result.rrset is None:
            # NODATA, or a CNAME chain whose end the server did not include.
            target = _cname_target(response, name)
            return Answer(Outcome.OK, (), authenticated, target or canonical)
        return Answer(Outcome.OK, tuple(result.rrset), authenticated, canonical)


def _cname_target(response: dns.message.Message, name: str) -> str | None:
    """The end of the CNAME chain in the answer section, when the data behind it is missing."""
    owner = dns.name.from_text(name)
    for _ in range(MAX_CNAME_CHAIN):
        for rrset in response.answer:
            if rrset.name == owner and rrset.rdtype == dns.rdatatype.CNAME:
                owner = rrset[0].target
                break
        else:
            break
    target = owner.to_text(omit_final_dot=True).lower()
    return None if target == name else target


async def mx_records(resolver: Resolver, domain: str) -> tuple[Answer, tuple[MxRecord, ...]]:
    answer = await resolver.query(domain, "MX")
    records = sorted(
        {
            MxRecord(rr.preference, rr.exchange.to_text(omit_final_dot=True).lower())
            for rr in answer.records
        },
        key=lambda mx: (mx.preference, mx.host),
    )
    return answer, tuple(records)


async def addresses(resolver: Resolver, host: str) -> tuple[Outcome, tuple[str, ...]]:
    """A and AAAA of a host: OK with addresses, or the worse failure of the two questions."""
    v4, v6 = await asyncio.gather(resolver.query(host, "A"), resolver.query(host, "AAAA"))
    found = tuple(rr.address for rr in v4.records) + tuple(rr.address for rr in v6.records)
    if found:
        return Outcome.OK, tuple(dict.fromkeys(found))
    for failure in (Outcome.TIMEOUT, Outcome.SERVFAIL):
        if failure in (v4.outcome, v6.outcome):
            return failure, ()
    if Outcome.NXDOMAIN in (v4.outcome, v6.outcome):
        return Outcome.NXDOMAIN, ()
    return Outcome.NODATA, ()


async def txt_strings(resolver: Resolver, name: str) -> tuple[Answer, tuple[str, ...]]:
    """Each TXT record as one string: its character-strings joined (RFC 7208 §3.3 style)."""
    answer = await resolver.query(name, "TXT")
    texts = tuple(b"".join(rr.strings).decode("utf-8", errors="replace") for rr in answer.records)
    return answer, texts


Lookup = Callable[[str, str], Awaitable[Answer]]
