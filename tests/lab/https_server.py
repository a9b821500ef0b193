"""A minimal HTTP(S) server: MTA-STS policy hosts and AIA URLs, one site per Host and path.

Sites may also misbehave (an endless header line, a trickle, a huge body) to test that a
client gives up on its own terms.
"""

from __future__ import annotations

import asyncio
import ssl
from http import HTTPStatus

from cryptography.hazmat.primitives import serialization

from .smtp_server import HOSTILE_LIMIT_SECONDS, close_writer, wait_eof
from .stats import ServerStats
from .tls import TlsEndpoint
from .world import HttpSiteSpec, HttpsServerSpec

MAX_HEADER_BYTES = 16384
# Bounds of the hostile behaviours: far beyond any sane client's limits, never unbounded (the
# time bound is the SMTP server's, HOSTILE_LIMIT_SECONDS).
ENDLESS_HEADER_BYTES = 4 * 1024 * 1024
HUGE_BODY_BYTES = 64 * 1024 * 1024


class HttpsServer:
    def __init__(
        self, spec: HttpsServerSpec, tls: TlsEndpoint, stats: ServerStats, https_port: int
    ) -> None:
        self.spec = spec
        self.tls = tls
        self.stats = stats
        self.https_port = https_port
        self.sites = {(site.host.lower().rstrip("."), site.path): site for site in spec.sites}
        self.hosts = {host for host, _ in self.sites}

    @property
    def name(self) -> str:
        return self.spec.name

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.opened()
        try:
            if self.spec.tls:
                # TLS by hand instead of start_server(ssl=...): a set-cert swap applies to the
                # next connection without restarting the listener.
                await writer.start_tls(self.tls.context(), ssl_handshake_timeout=15)
                self.stats.counts["tls_handshakes"] += 1
            async with asyncio.timeout(15):
                head = await reader.readuntil(b"\r\n\r\n")
            await self._respond(head, reader, writer)
            await writer.drain()
        except (ssl.SSLError, ConnectionError, OSError, TimeoutError) as exc:
            if isinstance(exc, ssl.SSLError):
                self.stats.counts["tls_failures"] += 1
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.stats.closed()
            await close_writer(writer)

    async def _respond(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.rpartition(" ")[0] or rest
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        host = headers.get("host", "").rpartition(":")[0] or headers.get("host", "")
        host = host.lower().rstrip(".")
        self.stats.counts["requests"] += 1
        self.stats.paths[f"{host}{path}"] += 1
        site = self.sites.get((host, path))
        if host not in self.hosts or method not in ("GET", "HEAD"):
            self._write(writer, 404, "no such site\n", {}, method)
        elif site is None:
            self._write(writer, 404, "not found\n", {}, method)
        elif site.behavior != "normal":
            await self._misbehave(site.behavior, reader, writer)
        else:
            self._site(writer, site, method)

    def _site(self, writer: asyncio.StreamWriter, site: HttpSiteSpec, method: str) -> None:
        headers = {
            k: v.replace("{https_port}", str(self.https_port)) for k, v in site.headers.items()
        }
        body = site.body
        if "{aia_intermediate_pem}" in body:
            pem = self.tls.pki.aia_inter.public_bytes(serialization.Encoding.PEM).decode()
            body = body.replace("{aia_intermediate_pem}", pem)
        self._write(writer, site.status, body, headers, method)

    async def _misbehave(
        self, behavior: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Keep the client busy until it gives up (closes) or the hostile bound is reached."""
        peer_gone = asyncio.ensure_future(wait_eof(reader, HOSTILE_LIMIT_SECONDS))
        try:
            async with asyncio.timeout(HOSTILE_LIMIT_SECONDS):
                if behavior == "endless-header":
                    writer.write(b"HTTP/1.1 200 OK\r\nX-Endless: ")
                    await self._stream(writer, b"a" * 65536, ENDLESS_HEADER_BYTES, peer_gone)
                elif behavior == "huge-body":
                    # No Content-Length: the body runs until the connection closes.
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                    await self._stream(writer, b"x" * 65536, HUGE_BODY_BYTES, peer_gone)
                elif behavior == "trickle":
                    for byte in b"HTTP/1.1 200 OK\r\nX-Trickle: " + b"t" * 100_000:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.wait([peer_gone], timeout=0.5)
                        if peer_gone.done():
                            return
                await asyncio.wait([peer_gone])
        except TimeoutError:
            pass
        finally:
            peer_gone.cancel()

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        chunk: bytes,
        total: int,
        peer_gone: asyncio.Future[bool],
    ) -> None:
        sent = 0
        while sent < total and not peer_gone.done():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    def _write(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: str,
        headers: dict[str, str],
        method: str,
    ) -> None:
        payload = body.encode()
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        out = [f"HTTP/1.1 {status} {reason}", "Content-Type: text/plain; charset=utf-8"]
        out += [f"{k}: {v}" for k, v in headers.items()]
        out += [f"Content-Length: {len(payload)}", "Connection: close", "", ""]
        writer.write("\r\n".join(out).encode() + (b"" if method == "HEAD" else payload))
