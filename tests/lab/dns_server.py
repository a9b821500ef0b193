"""Authoritative DNS for the lab zone over UDP and TCP, with faults and simulated DNSSEC."""

from __future__ import annotations

import asyncio
import contextlib
import traceback

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .stats import DnsStats
from .world import FaultSpec, RecordSpec

# What the lab advertises and honours as its EDNS UDP payload (the DNS flag day 2020 value).
EDNS_PAYLOAD = 1232
MAX_CNAME_CHAIN = 8


class Zone:
    """Records of one zone with the lookups an authoritative server needs."""

    def __init__(self, origin: str, records: list[RecordSpec], signed: list[str]) -> None:
        self.origin = dns.name.from_text(origin)
        self.nodes: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = {}
        self.signed = [dns.name.from_text(s) for s in signed]
        apex = self.origin.to_text()
        self.soa = self._rrset(
            self.origin, "SOA", f"ns.{apex} hostmaster.{apex} 1 3600 600 86400 60", 60
        )
        self._store(self.soa)
        self._store(self._rrset(self.origin, "NS", f"ns.{apex}", 3600))
        self._store(self._rrset(dns.name.from_text(f"ns.{apex}"), "A", "127.0.0.1", 3600))
        for record in records:
            self.add(record)

    def _rrset(self, name: dns.name.Name, rdtype: str, value: str, ttl: int) -> dns.rrset.RRset:
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN,
            dns.rdatatype.from_text(rdtype),
            value,
            origin=self.origin,
            relativize=False,
        )
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdata.rdtype)
        rrset.add(rdata, ttl)
        return rrset

    def _store(self, rrset: dns.rrset.RRset) -> None:
        node = self.nodes.setdefault(rrset.name, {})
        if rrset.rdtype in node:
            node[rrset.rdtype].union_update(rrset)
        else:
            node[rrset.rdtype] = rrset
        self._ancestors = None  # recomputed lazily: records can be added after start

    def add(self, record: RecordSpec) -> None:
        name = dns.name.from_text(record.name)
        if not name.is_subdomain(self.origin):
            raise ValueError(f"{record.name} is outside {self.origin}")
        self._store(self._rrset(name, record.rdtype, record.value, record.ttl))

    def exists(self, name: dns.name.Name) -> bool:
        """True for names with records and for empty non-terminals (NODATA, not NXDOMAIN)."""
        if name in self.nodes:
            return True
        if self._ancestors is None:
            ancestors: set[dns.name.Name] = set()
            for owner in self.nodes:
                while owner != self.origin and len(owner) > len(self.origin):
                    owner = owner.parent()
                    if owner in ancestors:
                        break
                    ancestors.add(owner)
            self._ancestors = ancestors
        return name in self._ancestors

    def is_signed(self, name: dns.name.Name) -> bool:
        return any(name.is_subdomain(s) for s in self.signed)


class DnsServer:
    def __init__(self, zone: Zone, faults: list[FaultSpec], stats: DnsStats) -> None:
        self.zone = zone
        self.stats = stats
        self.faults: dict[tuple[dns.name.Name, str], str] = {
            (dns.name.from_text(f.name), f.rdtype.upper()): f.fault for f in faults
        }

    def _fault(self, qname: dns.name.Name, rdtype: int) -> str | None:
        return self.faults.get((qname, dns.rdatatype.to_text(rdtype))) or self.faults.get(
            (qname, "*")
        )

    def respond(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The reply to one query, or None to stay silent (a timeout for the client)."""
        try:
            return self._respond(wire, tcp=tcp)
        except Exception:  # a lab bug: say so in the log, never kill the listener
            traceback.print_exc()
            return None

    def _respond(self, wire: bytes, *, tcp: bool) -> bytes | None:
        self.stats.counts["queries"] += 1
        self.stats.counts["tcp" if tcp else "udp"] += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            self.stats.counts["dropped"] += 1
            return None
        if not query.question:
            return self._finish(query, dns.message.make_response(query), dns.rcode.FORMERR, tcp)
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        self.stats.by_type[dns.rdatatype.to_text(qtype)] += 1
        self.stats.by_query[
            f"{qname.to_text(omit_final_dot=True)} {dns.rdatatype.to_text(qtype)}"
        ] += 1

        response = dns.message.make_response(
            query, recursion_available=True, our_payload=EDNS_PAYLOAD
        )
        if query.ednsflags & dns.flags.DO:
            response.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)  # RFC 3225: echo DO
        if query.opcode() != dns.opcode.QUERY:
            return self._finish(query, response, dns.rcode.NOTIMP, tcp)
        if not qname.is_subdomain(self.zone.origin):
            return self._finish(query, response, dns.rcode.REFUSED, tcp)
        fault = self._fault(qname, qtype)
        if fault == "timeout":
            self.stats.counts["dropped"] += 1
            return None
        if fault == "servfail":
            return self._finish(query, response, dns.rcode.SERVFAIL, tcp)

        response.flags |= dns.flags.AA
        rcode, secure = self._answer(response, qname, qtype)
        # A validating resolver sets AD only when asked to by DO or AD (RFC 6840 5.7).
        if secure and (query.flags & dns.flags.AD or query.ednsflags & dns.flags.DO):
            response.flags |= dns.flags.AD
            self.stats.counts["ad"] += 1
        return self._finish(query, response, rcode, tcp)

    def _answer(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: int
    ) -> tuple[int, bool]:
        zone = self.zone
        name = qname
        secure = zone.is_signed(qname)
        for _ in range(MAX_CNAME_CHAIN):
            node = zone.nodes.get(name)
            if node is None:
                if zone.exists(name):
                    response.authority.append(zone.soa)
                    return dns.rcode.NOERROR, secure
                response.authority.append(zone.soa)
                return dns.rcode.NXDOMAIN, secure
            if qtype == dns.rdatatype.ANY:
                response.answer.extend(node.values())
                return dns.rcode.NOERROR, secure
            if qtype in node:
                response.answer.append(node[qtype])
                return dns.rcode.NOERROR, secure
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None:
                response.authority.append(zone.soa)
                return dns.rcode.NOERROR, secure
            response.answer.append(cname)
            name = cname[0].target
            secure = secure and zone.is_signed(name)
            if not name.is_subdomain(zone.origin):
                return dns.rcode.NOERROR, secure  # the client resolves out-of-zone targets
        return dns.rcode.NOERROR, secure

    def _finish(
        self, query: dns.message.Message, response: dns.message.Message, rcode: int, tcp: bool
    ) -> bytes:
        response.set_rcode(rcode)
        self.stats.by_rcode[dns.rcode.to_text(rcode)] += 1
        if tcp:
            return response.to_wire(max_size=65535)
        limit = max(512, min(query.payload, EDNS_PAYLOAD)) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            # RFC 2181 9: drop the sections and set TC; the client retries over TCP.
            self.stats.counts["truncated"] += 1
            response.answer.clear()
            response.authority.clear()
            response.additional.clear()
            response.flags |= dns.flags.TC
            return response.to_wire(max_size=limit)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.server.respond(data, tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def serve_udp(server: DnsServer, sock: object) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(server), sock=sock)
    return transport


def tcp_handler(server: DnsServer):  # noqa: ANN201 - asyncio callback factory
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                async with asyncio.timeout(30):
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    wire = await reader.readexactly(size)
                reply = server.respond(wire, tcp=True)
                if reply is None:
                    continue  # a "timeout" name: keep the connection, never answer
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return handle
