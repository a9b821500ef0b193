"""Probe many domains at once: shared DNS answers, one dialogue per (MX host, address)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from . import aia, certs
from .config import ProbeConfig
from .dane import Tlsa, dane_match, tlsa_name
from .grading import grade
from .lookup import Outcome, Resolver, addresses, mx_records
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
from .policies import mta_sts, tls_rpt
from .smtp import Dialogue, smtp_dialogue

MAX_MX_HOSTS = 16
MAX_ADDRESSES_PER_HOST = 8
# Fetching missing intermediates (AIA) is for a better error code only: keep it small.
MAX_AIA_FETCHES = 32
AIA_DEADLINE = 10.0

T = TypeVar("T")


async def isolated(step: Awaitable[T], on_failure: Callable[[str], T]) -> T:
    """Run one step that talks to a server or reads what it sent; its failure stays its own.

    Whatever the step raises (a parser tripping on hostile bytes, a bug) becomes the value
    `on_failure` makes from a one-line description, recorded in that address's or fetch's
    `detail`, so it never reaches another address or domain. Cancellation still propagates:
    deadlines must keep working.
    """
    try:
        return await step
    except Exception as exc:  # noqa: BLE001 - recorded by on_failure, never silently dropped
        return on_failure(f"{type(exc).__name__}: {str(exc)[:160]}")


@dataclass(frozen=True, slots=True)
class _HostTlsa:
    records: tuple[Tlsa, ...]
    authenticated: bool


@dataclass(slots=True)
class _DomainFacts:
    """Everything learned about one domain before certificates are judged."""

    domain: str
    error: str | None = None
    mx: list[tuple[int, str, bool, str | None, tuple[str, ...]]] | None = None
    mta_sts: MtaStsResult = MtaStsResult(mode=None, valid=None)
    tls_rpt: TlsRptResult = TlsRptResult(present=False)
    tlsa: dict[str, _HostTlsa] | None = None
    # Whether the MX RRset (or, for an implicit MX, the domain's address) was DNSSEC-validated:
    # DANE applies only behind a secure MX lookup (RFC 7672 §2.2.1).
    mx_secure: bool = False


class Batch:
    """One probe run: the shared state that makes each question and each dialogue happen once."""

    def __init__(self, config: ProbeConfig) -> None:
        self.config = config
        self.resolver = Resolver(config)
        self.trust = certs.load_trust_store(config.ca_bundle)
        self.pool = certs.PROCESS_POOL
        # A bundle may carry intermediates beside its roots; they complete chains too.
        self.pool.add_chain(c for c in self.trust.roots if c.issuer != c.subject)
        self.connections = asyncio.Semaphore(config.max_connections)
        self._per_ip: dict[str, asyncio.Semaphore] = {}
        self._dialogues: dict[tuple[str, str], asyncio.Future[Dialogue]] = {}
        self._tlsa: dict[str, asyncio.Future[_HostTlsa]] = {}
        # Judged once per (host, address) like the dialogue itself: a hosted MX serves thousands.
        self._judged: dict[tuple[str, str], tuple[AddressResult, bool]] = {}
        self.aia_fetches: list[aia.AiaFetch] = []
        self._chain_names: dict[tuple[bytes, ...], tuple[str, ...]] = {}
        self._analyses: dict[
            tuple[tuple[bytes, ...], str | None], tuple[certs.CertificateInfo, bool] | None
        ] = {}
        self.handshakes = 0

    async def dialogue(self, host: str, ip: str) -> Dialogue:
        key = (host, ip)
        future = self._dialogues.get(key)
        if future is None:
            future = asyncio.ensure_future(self._polite_dialogue(host, ip))
            self._dialogues[key] = future
        return await asyncio.shield(future)

    async def _polite_dialogue(self, host: str, ip: str) -> Dialogue:
        if not self.config.may_connect(ip):
            # Whoever controls the domain chooses its MX addresses: never let them aim us at
            # loopback, a private network or a cloud metadata service.
            return Dialogue(
                ip=ip, error="non-public-address", detail=f"{ip} is not a public address"
            )
        gate = self._per_ip.setdefault(ip, asyncio.Semaphore(self.config.per_address_connections))
        async with gate, self.connections:
            result = await isolated(
                smtp_dialogue(host, ip, self.config),
                lambda why: Dialogue(ip=ip, error="probe-failed", detail=why),
            )
        if result.chain_der:
            self.handshakes += 1
        return result

    async def host_tlsa(self, host: str) -> _HostTlsa:
        future = self._tlsa.get(host)
        if future is None:
            future = asyncio.ensure_future(self._lookup_tlsa(host))
            self._tlsa[host] = future
        return await asyncio.shield(future)

    async def _lookup_tlsa(self, host: str) -> _HostTlsa:
        answer = await self.resolver.query(tlsa_name(host), "TLSA")
        # Only TLSA records reach here: dnswire.follow keeps the asked type alone.
        records = tuple(Tlsa(rr.usage, rr.selector, rr.mtype, rr.cert) for rr in answer.records)
        return _HostTlsa(records, answer.authenticated and bool(records))

    async def gather_facts(self, domain: str) -> _DomainFacts:
        facts = _DomainFacts(domain=domain)
        answer, records = await mx_records(self.resolver, domain)
        if answer.outcome is Outcome.NXDOMAIN:
            facts.error = "nxdomain"
            return facts
        if answer.outcome in (Outcome.TIMEOUT, Outcome.SERVFAIL):
            facts.error = str(answer.outcome)
            return facts
        if records and all(r.host in ("", ".") for r in records):
            facts.error = "null-mx"
            return facts
        facts.mx_secure = answer.authenticated
        # A "." beside real MX hosts is a misconfiguration; the real hosts still take mail.
        hosts = [(r.preference, r.host, False) for r in records if r.host not in ("", ".")]
        if not hosts:
            # No MX RRset: the domain itself is the implicit MX (RFC 5321 §5.1).
            outcome, ips = await addresses(self.resolver, domain)
            if outcome in (Outcome.TIMEOUT, Outcome.SERVFAIL):
                facts.error = str(outcome)
                return facts
            if not ips:
                facts.error = "no-mx-no-address"
                return facts
            hosts = [(0, domain, True)]
        hosts = _unique_hosts(hosts)[:MAX_MX_HOSTS]

        host_names = tuple(host for _, host, _ in hosts)
        sts_task = asyncio.ensure_future(
            isolated(
                mta_sts(
                    domain,
                    host_names,
                    self.resolver,
                    self.config,
                    self.trust,
                    self.config.clock(),
                    self.connections,
                ),
                lambda why: MtaStsResult(
                    mode=None, valid=False, errors=("policy-fetch-failed",), detail=why
                ),
            )
        )
        rpt_task = asyncio.ensure_future(tls_rpt(domain, self.resolver))
        # TLSA answers are needed only to judge the dialogues; asked now, they arrive while the
        # dialogues run instead of after them.
        tlsa_task = asyncio.gather(*(self.host_tlsa(host) for host in host_names))
        resolved = await asyncio.gather(*(addresses(self.resolver, h) for _, h, _ in hosts))
        mx_facts = []
        for (preference, host, implicit), (outcome, ips) in zip(hosts, resolved, strict=True):
            error = None if ips else _address_error(outcome)
            mx_facts.append((preference, host, implicit, error, ips[:MAX_ADDRESSES_PER_HOST]))
        facts.mx = mx_facts
        await asyncio.gather(
            *(self.dialogue(host, ip) for _, host, _, _, ips in mx_facts for ip in ips)
        )
        tlsa = await tlsa_task
        facts.tlsa = dict(zip(host_names, tlsa, strict=True))
        facts.mta_sts = await sts_task
        facts.tls_rpt = await rpt_task
        return facts

    def conclude(self, facts: _DomainFacts, now: datetime) -> DomainResult:
        if facts.mx is None:
            level, warnings = grade(
                error=facts.error,
                mx=(),
                valid_certificates={},
                mta_sts=facts.mta_sts,
                dane=DaneResult(False, False, None),
            )
            return DomainResult(
                domain=facts.domain,
                level=level,
                checked_at=now,
                warnings=warnings,
                error=facts.error,
            )
        valid: dict[tuple[str, str], bool] = {}
        mx_results = []
        tlsa = facts.tlsa or {}
        for preference, host, implicit, error, ips in facts.mx:
            results = []
            if not ips:
                results.append(AddressResult(ip=None, tested=False, starttls=False, error=error))
            for ip in ips:
                judged = self._judged.get((host, ip))
                if judged is None:
                    dialogue = self._dialogues[(host, ip)].result()
                    judged = self._judge(host, dialogue, tlsa.get(host), now)
                    self._judged[(host, ip)] = judged
                address, is_valid = judged
                valid[(host, ip)] = is_valid
                results.append(address)
            mx_results.append(MxResult(host, preference, implicit, tuple(results), error))
        dane = _dane_verdict(mx_results, tlsa, facts.mx_secure)
        level, warnings = grade(
            error=None,
            mx=mx_results,
            valid_certificates=valid,
            mta_sts=facts.mta_sts,
            dane=dane,
        )
        return DomainResult(
            domain=facts.domain,
            level=level,
            checked_at=now,
            warnings=warnings,
            mx=tuple(mx_results),
            mta_sts=facts.mta_sts,
            dane=dane,
            tls_rpt=facts.tls_rpt,
        )

    def _judge(
        self, host: str, dialogue: Dialogue, tlsa: _HostTlsa | None, now: datetime
    ) -> tuple[AddressResult, bool]:
        try:
            return self._address_result(host, dialogue, tlsa, now)
        except Exception as exc:  # noqa: BLE001 - a certificate no parser expected; recorded
            why = f"certificate not analyzable: {type(exc).__name__}: {str(exc)[:120]}"
            return _as_seen(dialogue, detail=dialogue.detail or why), False

    def _address_result(
        self, host: str, dialogue: Dialogue, tlsa: _HostTlsa | None, now: datetime
    ) -> tuple[AddressResult, bool]:
        certificate = None
        is_valid = False
        match = None
        if dialogue.chain_der:
            analyzed = self._analyze(dialogue.chain_der, host, now)
            if analyzed is not None:
                certificate, is_valid = analyzed
            if tlsa is not None and tlsa.records:
                match = dane_match(tlsa.records, dialogue.chain_der, (host,), now)
        address = _as_seen(
            dialogue,
            detail=dialogue.detail,
            certificate=certificate,
            dane_match=match if dialogue.tested else None,
        )
        return address, is_valid

    def _analyze(
        self, chain_der: tuple[bytes, ...], host: str, now: datetime
    ) -> tuple[certs.CertificateInfo, bool] | None:
        """certs.analyze, once per (chain, SAN entry that matches the host) in a batch.

        A hosted provider presents one wildcard chain for thousands of MX names: every name
        the same SAN entry matches gets the same verdict, so the verifier runs once for them.
        """
        names = self._chain_names.get(chain_der)
        if names is None:
            leaf = certs.parse_chain(chain_der[:1])
            names = self._chain_names[chain_der] = tuple(certs.dns_names(leaf[0])) if leaf else ()
        matched = next((name for name in names if certs.name_matches(name, host)), None)
        key = (chain_der, matched)
        if key not in self._analyses:
            self._analyses[key] = certs.analyze(chain_der, host, self.trust, now, self.pool)
        return self._analyses[key]

    async def chase_missing_issuers(self) -> None:
        """Fetch, from AIA caIssuers URLs, intermediates that servers failed to send.

        Bounded in count and time; what is fetched only goes into the pool, so it can turn
        "untrusted" into "incomplete-chain" but never make a chain valid.
        """
        fetched: set[str] = set()
        try:
            async with asyncio.timeout(min(self.config.probe_timeout, AIA_DEADLINE)):
                for _ in range(2):  # an intermediate may itself lack its issuer
                    urls = self._aia_urls_wanted() - fetched
                    urls = set(sorted(urls)[: MAX_AIA_FETCHES - len(fetched)])
                    if not urls:
                        return
                    fetched |= urls
                    await asyncio.gather(*(self._fetch_issuers(url) for url in sorted(urls)))
        except TimeoutError:
            return

    async def _fetch_issuers(self, url: str) -> None:
        outcome = await isolated(
            aia.fetch_issuers(url, self.resolver, self.config),
            lambda why: aia.AiaFetch(url, error="aia-fetch-failed", detail=why),
        )
        # Kept for whoever wants to know why an intermediate stayed missing (tests, debugging).
        self.aia_fetches.append(outcome)
        self.pool.add_chain(outcome.issuers)

    def _presented_chains(self) -> list[tuple[bytes, ...]]:
        """Each distinct chain the batch's servers presented, once.

        A hosted provider presents one chain on thousands of (MX host, address) pairs; parsing
        and walking it once per pair costs more than the handshakes that brought it.
        """
        chains: dict[tuple[bytes, ...], None] = {}
        for future in self._dialogues.values():
            if future.done() and not future.cancelled():
                chain_der = future.result().chain_der
                chains.pop(chain_der, None)  # keep the order in which chains were last seen
                chains[chain_der] = None
        return list(chains)

    def _aia_urls_wanted(self) -> set[str]:
        urls: set[str] = set()
        for chain_der in self._presented_chains():
            chain = certs.parse_chain(chain_der)
            if not chain:
                continue
            try:
                stuck = certs.missing_issuer(chain, self.trust, self.pool)
                if stuck is not None:
                    urls.update(aia.ca_issuer_urls(stuck))
            except Exception as exc:  # noqa: BLE001 - this chain only loses its AIA chase
                self.aia_fetches.append(
                    aia.AiaFetch("", error="aia-unreadable", detail=f"{type(exc).__name__}")
                )
        return urls

    def remember_intermediates(self) -> None:
        for chain_der in self._presented_chains():
            self.pool.add_chain(certs.parse_chain(chain_der[1:]))


def _unique_hosts(hosts: list[tuple[int, str, bool]]) -> list[tuple[int, str, bool]]:
    seen: set[str] = set()
    unique = []
    for entry in sorted(hosts, key=lambda h: (h[0], h[1])):
        if entry[1] not in seen:
            seen.add(entry[1])
            unique.append(entry)
    return unique


def _as_seen(
    dialogue: Dialogue,
    *,
    detail: str | None,
    certificate: CertificateInfo | None = None,
    dane_match: bool | None = None,
) -> AddressResult:
    """An address as its SMTP dialogue saw it, with what judging its chain added."""
    return AddressResult(
        ip=dialogue.ip,
        tested=dialogue.tested,
        starttls=dialogue.starttls,
        tls_version=dialogue.tls_version,
        cipher=dialogue.cipher,
        error=dialogue.error,
        smtp_reply=dialogue.smtp_reply,
        detail=detail,
        extensions=dialogue.extensions,
        certificate=certificate,
        dane_match=dane_match,
    )


def _address_error(outcome: Outcome) -> str:
    if outcome in (Outcome.TIMEOUT, Outcome.SERVFAIL):
        return str(outcome)
    return "no-address"


def _dane_verdict(
    mx_results: list[MxResult], tlsa: dict[str, _HostTlsa], mx_secure: bool
) -> DaneResult:
    published = [host for host, info in tlsa.items() if info.records]
    if not published:
        return DaneResult(tlsa=False, dnssec=False, valid=None)
    dnssec = mx_secure and all(tlsa[host].authenticated for host in published)
    covered = len(published) == len(tlsa)
    matched = all(
        a.dane_match is True
        for m in mx_results
        for a in m.addresses
        if a.working_starttls and m.host in published
    )
    any_working = any(a.working_starttls for m in mx_results for a in m.addresses)
    return DaneResult(
        tlsa=True, dnssec=dnssec, valid=dnssec and covered and matched and any_working
    )


async def probe_batch(
    domains: Iterable[str], config: ProbeConfig
) -> tuple[list[DomainResult], Batch]:
    """Probe every domain; results come back in input order, one per input domain."""
    batch = Batch(config)
    names = list(domains)
    normalized: list[str | None] = []
    for name in names:
        try:
            normalized.append(normalize_domain(name))
        except ValueError:
            normalized.append(None)
    unique = list(dict.fromkeys(n for n in normalized if n))
    tasks = {name: asyncio.ensure_future(batch.gather_facts(name)) for name in unique}
    if tasks:
        done, pending = await asyncio.wait(tasks.values(), timeout=config.batch_timeout)
        for task in pending:
            task.cancel()
        for future in batch._dialogues.values():
            if not future.done():
                future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    batch.remember_intermediates()
    await batch.chase_missing_issuers()
    batch.resolver.close()
    now = config.clock()
    concluded: dict[str, DomainResult] = {}
    for name, task in tasks.items():
        if task.cancelled() or task.exception() is not None:
            concluded[name] = _deadline_result(name, now, task)
            continue
        concluded[name] = batch.conclude(task.result(), now)
    results = []
    for raw, name in zip(names, normalized, strict=True):
        if name is None:
            results.append(
                DomainResult(
                    domain=str(raw), level=Level.UNREACHABLE, checked_at=now, error="invalid-domain"
                )
            )
        else:
            results.append(concluded[name])
    return results, batch


def _deadline_result(name: str, now: datetime, task: asyncio.Future) -> DomainResult:
    error = "batch-deadline" if task.cancelled() else "probe-failed"
    return DomainResult(domain=name, level=Level.UNREACHABLE, checked_at=now, error=error)


def probe_domains(domains: Iterable[str], config: ProbeConfig) -> list[DomainResult]:
    """Synchronous entry point: probe a batch and return one result per domain, in order."""
    results, _ = asyncio.run(probe_batch(domains, config))
    return results


def probe_domain(domain: str, config: ProbeConfig) -> DomainResult:
    return probe_domains([domain], config)[0]


__all__ = ["Batch", "probe_batch", "probe_domain", "probe_domains"]
