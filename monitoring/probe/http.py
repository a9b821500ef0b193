"""A small, bounded HTTP/1.1 GET over a connection we open ourselves (to an address we resolved)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    # Certificates the server presented (leaf first), for HTTPS.
    chain_der: tuple[bytes, ...] = ()


async def http_get(
    ip: str,
    port: int,
    host: str,
    path: str,
    *,
    tls: bool,
    connect_timeout: float,
    max_body: int,
    accept: str = "*/*",
) -> HttpResponse:
    """GET `path` from `host` at `ip`; never follows redirects; raises ValueError on bad HTTP.

    The address comes from our own resolver, so name resolution never leaves the configured
    resolvers (docs/probe.md), and TLS is not verified here: the caller judges the chain.
    """
    from .smtp import presented_chain

    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    async with asyncio.timeout(connect_timeout):
        reader, writer = await asyncio.open_connection(
            ip,
            port,
            ssl=context,
            server_hostname=host if tls else None,
            limit=MAX_HEADER_BYTES,
        )
    try:
        chain = presented_chain(writer.get_extra_info("ssl_object")) if tls else ()
        authority = host if port == (443 if tls else 80) else f"{host}:{port}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: secmail-probe\r\n"
            f"Accept: {accept}\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError("not an HTTP response")
        headers = {}
        for line in header_lines:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        body = await _read_body(reader, headers, max_body)
        return HttpResponse(int(parts[1]), headers, body, chain)
    finally:
        writer.transport.abort()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], limit: int) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return bytes(body)
            if len(body) + size > limit:
                raise ValueError("response body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit() or int(length) > limit:
            raise ValueError("response body too large")
        return await reader.readexactly(int(length))
    body = await reader.read(limit + 1)
    with contextlib.suppress(OSError, ssl.SSLError):
        while len(body) <= limit and (chunk := await reader.read(limit + 1 - len(body))):
            body += chunk
    if len(body) > limit:
        raise ValueError("response body too large")
    return body
