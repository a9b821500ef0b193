"""A small, bounded HTTP/1.1 GET over a connection we open ourselves (to an address we resolved)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from .config import ProbeConfig
from .smtp import presented_chain, short_error

MAX_HEADER_BYTES = 16 * 1024
# A chunk-size line is a hex number and optional extensions; anything longer is hostile.
MAX_CHUNK_LINE = 1024


class HttpError(Exception):
    """The server's answer was not usable HTTP; the message says why, in a few words."""


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
    """GET `path` from `host` at `ip`; never follows redirects.

    Raises HttpError for an answer that is not bounded, well-formed HTTP, OSError (ssl.SSLError
    included) for the connection, TimeoutError for the connect deadline; the caller's own
    deadline bounds the rest. The address comes from our own resolver, so name resolution
    never leaves the configured resolvers, and TLS is not verified here: the caller judges the
    chain.
    """
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
        writer.write(request.encode("ascii", errors="replace"))
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status, headers = _parse_head(head)
            body = await _read_body(reader, headers, max_body)
        except asyncio.LimitOverrunError:
            raise HttpError(f"response header longer than {MAX_HEADER_BYTES} bytes") from None
        except asyncio.IncompleteReadError:
            raise HttpError("connection closed before the response ended") from None
        return HttpResponse(status, headers, body, chain)
    finally:
        writer.transport.abort()


async def first_response(
    ips: Sequence[str],
    port: int,
    host: str,
    path: str,
    *,
    tls: bool,
    config: ProbeConfig,
    max_body: int,
    accept: str = "*/*",
) -> HttpResponse | str | None:
    """GET from each address in turn, each within the probe timeout, until one answers.

    Returns the first response, whatever its status; else what went wrong at the last address
    ("<ip>: timeout" or "<ip>: <error>"); None when there was no address to try.
    """
    failure = None
    for ip in ips:
        try:
            async with asyncio.timeout(config.probe_timeout):
                return await http_get(
                    ip,
                    port,
                    host,
                    path,
                    tls=tls,
                    connect_timeout=config.connect_timeout,
                    max_body=max_body,
                    accept=accept,
                )
        except TimeoutError:
            failure = f"{ip}: timeout"
        except (HttpError, OSError) as exc:
            failure = f"{ip}: {short_error(exc)}"
    return failure


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not _is_digits(parts[1], 3):
        raise HttpError(f"not an HTTP status line: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return int(parts[1]), headers


def _is_digits(text: str, count: int) -> bool:
    return len(text) == count and text.isascii() and text.isdigit()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], limit: int) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size_text = size_line.split(b";")[0].strip() or b"0"
            if len(size_line) > MAX_CHUNK_LINE or not all(
                c in b"0123456789abcdefABCDEF" for c in size_text
            ):
                raise HttpError("malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                return bytes(body)
            if len(body) + size > limit:
                raise HttpError("response body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = headers.get("content-length")
    if length is not None:
        if not length.isascii() or not length.isdigit():
            raise HttpError("malformed Content-Length")
        if int(length) > limit:
            raise HttpError("response body too large")
        return await reader.readexactly(int(length))
    body = bytearray()
    try:
        while len(body) <= limit and (chunk := await reader.read(limit + 1 - len(body))):
            body += chunk
    except OSError:
        # Connection: close ends the body; an abrupt end (or a TLS close without close_notify)
        # after some data is how many servers finish.
        pass
    if len(body) > limit:
        raise HttpError("response body too large")
    return bytes(body)
