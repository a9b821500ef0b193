"""DNS questions the probe asks (MX, A/AAAA, TXT, TLSA), errors told apart, answers shared."""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import random
from collections.abc import Awaitable
from dataclasses import dataclass

import dns.rcode
import dns.resolver

from . import dnswire
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


class _Multiplexer(asyncio.DatagramProtocol):
    """One connected UDP socket to one resolver, shared by every question in flight.

    dnspython's own async path opens a socket per question; over a batch of thousands of
    domains that costs more than parsing the answers. Replies are matched by message id here
    and by question in `_exchange`, and the socket only accepts datagrams from the resolver.
    """

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[int, asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            return
        future = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: every question on this socket is lost.
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(exc)
        self.waiting.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionError("resolver socket closed"))

    def new_id(self) -> int:
        while True:
            candidate = random.getrandbits(16)
            if candidate not in self.waiting:
                return candidate


# Questions that stand between the probe and a connection go first: the addresses of an MX
# host, then MX sets. TXT (MTA-STS, TLS-RPT) and TLSA answers are needed only once the
# dialogues are over, so they take the slots the others leave. The order changes no answer.
PRIORITY = {"A": 0, "AAAA": 0, "MX": 1}
LOWEST_PRIORITY = 2


class _PriorityGate:
    """A semaphore whose waiters are let in by priority, then in order of arrival."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as the waiter was cancelled
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the next waiter
                return
        self._free += 1


def _expire(waiter: asyncio.Future[bytes]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Resolver:
    """Answers questions through the configured resolvers; one lookup per (name, type) per batch."""

    def __init__(self, config: ProbeConfig) -> None:
        if config.resolvers:
            self._nameservers = list(config.resolvers)
        else:
            try:
                system = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                # No /etc/resolv.conf: every question fails as SERVFAIL rather than the batch.
                system = dns.resolver.Resolver(configure=False)
            self._nameservers = [(str(ip), 53) for ip in system.nameservers]
        self._lifetime = config.dns_timeout
        self._attempt_timeout = min(2.0, config.dns_timeout)
        self._in_flight = _PriorityGate(config.max_dns_queries)
        self._muxes: dict[tuple[str, int], _Multiplexer] = {}
        self._mux_lock = asyncio.Lock()
        self._pending: dict[tuple[str, str], asyncio.Future[Answer]] = {}

    def close(self) -> None:
        for mux in self._muxes.values():
            if mux.transport is not None:
                mux.transport.close()
        self._muxes.clear()

    def query(self, name: str, rdtype: str) -> Awaitable[Answer]:
        """The answer, asked once per batch; cancelling one waiter never cancels the question.

        A shielded future rather than a coroutine: gathering a few of them costs no task each.
        """
        key = (name.lower().rstrip("."), rdtype)
        future = self._pending.get(key)
        if future is None:
            future = asyncio.ensure_future(self._follow(key[0], rdtype))
            self._pending[key] = future
        return asyncio.shield(future)

    async def _follow(self, name: str, rdtype: str) -> Answer:
        # Recursive resolvers chase CNAMEs themselves; an authoritative-only or partial answer may
        # stop at the CNAME, so chase what is left here, with a bound against loops.
        current = name
        authenticated = True
        for _ in range(MAX_CNAME_CHAIN):
            answer = await self._ask(current, rdtype)
            authenticated = authenticated and answer.authenticated
            if answer.outcome is not Outcome.OK or answer.records:
                return Answer(answer.outcome, answer.records, authenticated, answer.canonical)
            if not answer.canonical or answer.canonical == current:
                return Answer(Outcome.NODATA, (), authenticated, current)
            current = answer.canonical
        return Answer(Outcome.SERVFAIL, (), False, current)

    async def _ask(self, name: str, rdtype: str) -> Answer:
        try:
            asked = dnswire.question(name, rdtype)
            await self._in_flight.acquire(PRIORITY.get(rdtype, LOWEST_PRIORITY))
            try:
                response = await self._exchange(asked)
            finally:
                self._in_flight.release()
            if isinstance(response, Outcome):
                return Answer(response)
            authenticated = response.authenticated
            if response.rcode == dns.rcode.NXDOMAIN:
                return Answer(Outcome.NXDOMAIN, (), authenticated, name)
            # A hostile answer (a CNAME loop, a mangled record) fails that question only.
            records, canonical = dnswire.follow(response, name, rdtype, MAX_CNAME_CHAIN)
        except (dnswire.WireError, ValueError, OSError, EOFError):
            return Answer(Outcome.SERVFAIL)
        # NODATA, or a CNAME chain whose end the server did not include, has no records.
        return Answer(Outcome.OK, records, authenticated, canonical)

    async def _exchange(self, asked: bytes) -> dnswire.Response | Outcome:
        """Ask the resolvers in turn until one answers NOERROR or NXDOMAIN, within the lifetime."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lifetime
        if not self._nameservers:
            return Outcome.SERVFAIL
        failure = Outcome.TIMEOUT
        failed_servers: set[tuple[str, int]] = set()
        attempt = 0
        while (remaining := deadline - loop.time()) > 0:
            server = self._nameservers[attempt % len(self._nameservers)]
            attempt += 1
            mux = self._muxes.get(server)
            if mux is None or mux.transport is None or mux.transport.is_closing():
                # Rare: no open socket yet. The common case costs no coroutine and no lock.
                mux = await self._mux(server)
            query_id = mux.new_id()
            wire = dnswire.query(query_id, asked)
            waiter: asyncio.Future[bytes] = loop.create_future()
            mux.waiting[query_id] = waiter
            # One timer on the waiter itself: wait_for would add a future and callbacks.
            timer = loop.call_later(min(self._attempt_timeout, remaining), _expire, waiter)
            try:
                assert mux.transport is not None
                mux.transport.sendto(wire)
                data = await waiter
            except TimeoutError:
                continue
            except OSError:
                # Refused by the resolver host; wait a little rather than spin.
                failure = Outcome.SERVFAIL
                await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
                continue
            finally:
                timer.cancel()
                mux.waiting.pop(query_id, None)
            try:
                response = dnswire.parse(data, asked)
            except dnswire.WireError:
                continue  # not an answer to this question (or garbage): keep waiting
            if response.truncated:
                try:
                    async with asyncio.timeout_at(deadline):
                        data = await _tcp_exchange(server, wire)
                except (OSError, EOFError, asyncio.IncompleteReadError):
                    failure = Outcome.SERVFAIL
                    failed_servers.add(server)
                    if len(failed_servers) == len(self._nameservers):
                        return failure
                    continue
                response = dnswire.parse(data, asked)
            if response.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return response
            failure = Outcome.SERVFAIL
            failed_servers.add(server)
            if len(failed_servers) == len(self._nameservers):
                return failure
        return failure

    async def _mux(self, server: tuple[str, int]) -> _Multiplexer:
        """The socket to `server`, opened under the lock unless another question opened it."""
        async with self._mux_lock:
            mux = self._muxes.get(server)
            if mux is None or mux.transport is None or mux.transport.is_closing():
                loop = asyncio.get_running_loop()
                _, mux = await loop.create_datagram_endpoint(_Multiplexer, remote_addr=server)
                self._muxes[server] = mux
        return mux


async def _tcp_exchange(server: tuple[str, int], wire: bytes) -> bytes:
    """The same query over TCP (RFC 7766), for an answer too large for UDP."""
    reader, writer = await asyncio.open_connection(server[0], server[1])
    try:
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        size = int.from_bytes(await reader.readexactly(2), "big")
        return await reader.readexactly(size)
    finally:
        writer.transport.abort()


async def mx_records(resolver: Resolver, domain: str) -> tuple[Answer, tuple[MxRecord, ...]]:
    answer = await resolver.query(domain, "MX")
    records = sorted(
        {MxRecord(rr.preference, rr.exchange) for rr in answer.records},
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
