"""DNS messages on the wire, only as much as the probe asks: queries out, answers in.

dnspython's general message classes cost more per answer than a TLS handshake does, and a
batch asks several questions per domain. The probe needs one question per query and, from the
answer section only, A, AAAA, MX, TXT, TLSA and CNAME records; everything else (authority,
additional, signatures) is skipped unread. Anything malformed raises WireError, which the
resolver treats like any failed question.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}
CLASS_IN = 1
FLAG_QR = 0x8000
FLAG_TC = 0x0200
FLAG_RD = 0x0100
FLAG_AD = 0x0020
OPT = 41
# EDNS0 payload size of the DNS Flag Day 2020; DO asks for DNSSEC (and so the AD bit).
PAYLOAD = 1232
DO_BIT = 0x8000
MAX_POINTERS = 32


class WireError(ValueError):
    """A DNS message the probe cannot read."""


@dataclass(frozen=True, slots=True)
class AddressRecord:
    address: str


@dataclass(frozen=True, slots=True)
class MxData:
    preference: int
    exchange: str  # lower case, without the final dot; "" for the root (null MX)


@dataclass(frozen=True, slots=True)
class TxtData:
    strings: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class TlsaData:
    usage: int
    selector: int
    mtype: int
    cert: bytes


@dataclass(frozen=True, slots=True)
class CnameData:
    target: str


Record = AddressRecord | MxData | TxtData | TlsaData | CnameData


@dataclass(frozen=True, slots=True)
class Response:
    rcode: int
    authenticated: bool
    truncated: bool
    # (owner, type, data) of the answer section, records of the types above only.
    answers: tuple[tuple[str, int, Record], ...]


def encode_name(name: str) -> bytes:
    labels = [label for label in name.rstrip(".").split(".")] if name.strip(".") else []
    out = bytearray()
    for label in labels:
        raw = label.encode("ascii")  # names are normalized (A-labels) before they get here
        if not 1 <= len(raw) <= 63:
            raise WireError(f"bad label length in {name!r}")
        out += bytes([len(raw)]) + raw
    out += b"\x00"
    if len(out) > 255:
        raise WireError("name too long")
    return bytes(out)


def question(name: str, rdtype: str) -> bytes:
    return encode_name(name) + struct.pack("!HH", TYPES[rdtype], CLASS_IN)


def query(query_id: int, asked: bytes) -> bytes:
    """A recursive query with AD and an EDNS0 OPT record carrying DO (RFC 6840 §5.7)."""
    header = struct.pack("!HHHHHH", query_id, FLAG_RD | FLAG_AD, 1, 0, 0, 1)
    opt = b"\x00" + struct.pack("!HHIH", OPT, PAYLOAD, DO_BIT, 0)
    return header + asked + opt


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at `offset` (compression followed, bounded) and the offset after it."""
    labels: list[str] = []
    end = None
    jumps = 0
    length = 0
    while True:
        if offset >= len(data):
            raise WireError("name runs past the message")
        size = data[offset]
        if size & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise WireError("truncated compression pointer")
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > MAX_POINTERS:
                raise WireError("compression loop")
            offset = ((size & 0x3F) << 8) | data[offset + 1]
            continue
        if size & 0xC0:
            raise WireError("unknown label type")
        offset += 1
        if size == 0:
            break
        label = data[offset : offset + size]
        if len(label) != size:
            raise WireError("label runs past the message")
        length += size + 1
        if length > 255:
            raise WireError("name too long")
        labels.append(label.decode("ascii", errors="replace").lower())
        offset += size
    return ".".join(labels), end if end is not None else offset


def parse(data: bytes, asked: bytes) -> Response:
    """Read a response to the question `asked` (wire form); WireError when it is not one."""
    if len(data) < 12:
        raise WireError("shorter than a DNS header")
    _, flags, qdcount, ancount, _, _ = struct.unpack_from("!HHHHHH", data)
    if not flags & FLAG_QR or qdcount != 1:
        raise WireError("not a response to one question")
    # Label lengths (< 64) and the type/class bytes are no ASCII letters: lower() is safe.
    if data[12 : 12 + len(asked)].lower() != asked.lower():
        raise WireError("answer to another question")
    offset = 12 + len(asked)
    answers: list[tuple[str, int, Record]] = []
    for _ in range(ancount):
        owner, offset = read_name(data, offset)
        if offset + 10 > len(data):
            raise WireError("record header runs past the message")
        rtype, rclass, _, rdlength = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        end = offset + rdlength
        if end > len(data):
            raise WireError("record data runs past the message")
        if rclass == CLASS_IN:
            record = _rdata(data, offset, end, rtype)
            if record is not None:
                answers.append((owner, rtype, record))
        offset = end
    return Response(
        rcode=flags & 0x000F,
        authenticated=bool(flags & FLAG_AD),
        truncated=bool(flags & FLAG_TC),
        answers=tuple(answers),
    )


def _rdata(data: bytes, start: int, end: int, rtype: int) -> Record | None:
    rdata = data[start:end]
    if rtype == 1:
        if len(rdata) != 4:
            raise WireError("A record of the wrong size")
        return AddressRecord(str(ipaddress.IPv4Address(rdata)))
    if rtype == 28:
        if len(rdata) != 16:
            raise WireError("AAAA record of the wrong size")
        return AddressRecord(ipaddress.IPv6Address(rdata).compressed)
    if rtype == 15:
        if len(rdata) < 3:
            raise WireError("MX record too short")
        exchange, after = read_name(data, start + 2)
        if after > end:
            raise WireError("MX name runs past its record")
        return MxData(struct.unpack_from("!H", rdata)[0], exchange)
    if rtype == 5:
        target, after = read_name(data, start)
        if after > end:
            raise WireError("CNAME runs past its record")
        return CnameData(target)
    if rtype == 16:
        strings = []
        index = 0
        while index < len(rdata):
            size = rdata[index]
            chunk = rdata[index + 1 : index + 1 + size]
            if len(chunk) != size:
                raise WireError("TXT string runs past its record")
            strings.append(chunk)
            index += 1 + size
        return TxtData(tuple(strings))
    if rtype == 52:
        if len(rdata) < 3:
            raise WireError("TLSA record too short")
        return TlsaData(rdata[0], rdata[1], rdata[2], rdata[3:])
    return None


def follow(response: Response, name: str, rdtype: str, max_chain: int) -> tuple[tuple, str]:
    """The records of `rdtype` at the end of the answer's CNAME chain, and that name.

    Empty records with the last name reached when the chain ends without them (NODATA, or a
    CNAME whose target the server left out: the caller asks again for the target).
    """
    wanted = TYPES[rdtype]
    current = name.lower().rstrip(".")
    for _ in range(max_chain + 1):
        records = tuple(r for owner, t, r in response.answers if owner == current and t == wanted)
        if records:
            return records, current
        target = next(
            (r.target for owner, t, r in response.answers if owner == current and t == 5), None
        )
        if target is None or target == current:
            return (), current
        current = target
    raise WireError("CNAME chain too long")
