"""A minimal HTTPS server for MTA-STS policy hosts, one site per SNI / Host name."""

from __future__ import annotations

import asyncio
import ssl
from http import HTTPStatus

from .smtp_server import close_writer
from .stats import ServerStats
from .tls import TlsEndpoint
from .world import HttpSiteSpec, HttpsServerSpec

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_HEADER_BYTES = 16384


class HttpsServer:
    def __init__(
        self, spec: HttpsServerSpec, tls: TlsEndpoint, stats: ServerStats, https_port: int
    ) -> None:
        self.spec = spec
        self.tls = tls
        self.stats = stats
        self.https_port = https_port
        self.sites = {site.host.lower().rstrip("."): site for site in spec.sites}

    @property
    def name(self) -> str:
        return self.spec.name

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.opened()
        try:
            # TLS by hand instead of start_server(ssl=...): a set-cert swap applies to the
            # next connection without restarting the listener.
            await writer.start_tls(self.tls.context(), ssl_handshake_timeout=15)
            self.stats.counts["tls_handshakes"] += 1
            async with asyncio.timeout(15):
                head = await reader.readuntil(b"\r\n\r\n")
            await self._respond(head, writer)
            await writer.drain()
        except (ssl.SSLError, ConnectionError, OSError, TimeoutError) as exc:
            if isinstance(exc, ssl.SSLError):
                self.stats.counts["tls_failures"] += 1
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.stats.closed()
            await close_writer(writer)

    async def _respond(self, head: bytes, writer: asyncio.StreamWriter) -> None:
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
        site = self.sites.get(host)
        if site is None or method not in ("GET", "HEAD"):
            self._write(writer, 404, "no such site\n", {}, method)
        elif path != POLICY_PATH:
            self._write(writer, 404, "not found\n", {}, method)
        else:
            self._site(writer, site, method)

    def _site(self, writer: asyncio.StreamWriter, site: HttpSiteSpec, method: str) -> None:
        headers = {
            k: v.replace("{https_port}", str(self.https_port)) for k, v in site.headers.items()
        }
        self._write(writer, site.status, site.body, headers, method)

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
