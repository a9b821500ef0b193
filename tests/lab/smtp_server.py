"""An ESMTP server with STARTTLS whose behaviour (normal, broken or hostile) is configurable."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import struct

from .stats import ServerStats
from .tls import TlsEndpoint
from .world import SmtpServerSpec

# Longer than any sane probe timeout, shorter than forever so a lab never leaks tasks.
SLOW_GREETING_SECONDS = 120.0
HOSTILE_LIMIT_SECONDS = 600.0
IDLE_SECONDS = 120.0
LONG_LINE_BYTES = 8 * 1024 * 1024
# A fatal TLS alert record (handshake_failure), sent where a ServerHello is expected.
TLS_ALERT = bytes.fromhex("15030100020228")


async def wait_eof(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Discard input until the peer closes (False) or ``seconds`` pass (True)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return True
    except (ConnectionError, OSError):
        pass
    return False


class SmtpServer:
    def __init__(self, spec: SmtpServerSpec, tls: TlsEndpoint, stats: ServerStats) -> None:
        self.spec = spec
        self.tls = tls
        self.stats = stats

    @property
    def name(self) -> str:
        return self.spec.name

    def set_behavior(self, behavior: str) -> None:
        legacy = behavior == "legacy-only"
        anonymous = behavior == "anonymous-only"
        if legacy != self.tls.legacy or anonymous != self.tls.anonymous:
            self.tls.rebuild(legacy=legacy, anonymous=anonymous)
        self.spec.behavior = behavior

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.opened()
        try:
            await self._session(reader, writer)
            await writer.drain()
        except (ConnectionError, OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self.stats.closed()
            await close_writer(writer)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        behavior = self.spec.behavior  # a connection keeps the behaviour it was accepted with
        host = self.spec.hostname

        if behavior == "reset":
            sock = writer.get_extra_info("socket")
            # SO_LINGER 0: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if behavior == "slow-greeting":
            if not await wait_eof(reader, SLOW_GREETING_SECONDS):
                return
        elif behavior == "drip-feed":
            await self._drip(reader, writer, f"220 {host} ESMTP ".encode())
            return
        elif behavior == "garbage":
            rng = random.Random(self.spec.name)
            # A NUL first: never mistaken for a reply code, whatever the random bytes are.
            writer.write(b"\x00" + rng.randbytes(2999) + b"\r\n" + rng.randbytes(1000))
            await writer.drain()
            await wait_eof(reader, 60)
            return
        elif behavior == "greeting-421":
            writer.write(f"421 4.3.2 {host} Service not available, closing channel\r\n".encode())
            return

        if behavior == "greeting-554":
            writer.write(f"554 5.3.2 {host} No SMTP service here\r\n".encode())
        elif self.spec.multiline_greeting:
            writer.write(
                f"220-{host} ESMTP secmail lab\r\n220-This server is a test fixture.\r\n"
                f"220 {host} ready\r\n".encode()
            )
        else:
            writer.write(f"220 {host} ESMTP secmail lab\r\n".encode())

        in_tls = False
        while True:
            line = await self._readline(reader, writer)
            if line is None:
                return
            verb, _, argument = line.strip().partition(" ")
            verb = verb.upper()
            if behavior == "greeting-554" and verb != "QUIT":
                # RFC 5321 3.1: after a 554 greeting the server waits for QUIT.
                writer.write(b"503 5.5.1 No SMTP service here, send QUIT\r\n")
                continue
            if verb == "EHLO":
                self.stats.counts["ehlo"] += 1
                if behavior == "ehlo-rejected":
                    writer.write(b"502 5.5.2 EHLO not implemented, use HELO\r\n")
                elif behavior == "endless-multiline":
                    await self._endless(reader, writer, host)
                    return
                elif behavior == "long-line":
                    await self._long_line(reader, writer)
                    return
                else:
                    writer.write(self._ehlo_reply(argument, in_tls, behavior))
            elif verb == "HELO":
                self.stats.counts["helo"] += 1
                writer.write(f"250 {host}\r\n".encode())
            elif verb == "STARTTLS":
                self.stats.counts["starttls"] += 1
                if in_tls:
                    writer.write(b"503 5.5.1 TLS already active\r\n")
                elif behavior in ("no-starttls", "ehlo-rejected"):
                    writer.write(b"502 5.5.1 STARTTLS not offered\r\n")
                elif behavior == "starttls-454":
                    writer.write(b"454 4.7.0 TLS not available due to temporary reason\r\n")
                else:
                    writer.write(b"220 2.0.0 Ready to start TLS\r\n")
                    await writer.drain()
                    if behavior == "close-after-starttls":
                        return
                    if behavior == "tls-alert":
                        writer.write(TLS_ALERT)
                        return
                    if behavior == "tls-garbage":
                        writer.write(b"this is not a TLS record\r\n" * 4)
                        return
                    if not await self._start_tls(writer):
                        return
                    in_tls = True
            elif verb == "MAIL":
                self.stats.counts["mail_from"] += 1
                writer.write(b"550 5.7.1 This lab server accepts no mail\r\n")
            elif verb == "RCPT":
                self.stats.counts["rcpt_to"] += 1
                writer.write(b"550 5.7.1 This lab server accepts no mail\r\n")
            elif verb == "DATA":
                self.stats.counts["data"] += 1
                writer.write(b"554 5.5.1 No valid recipients\r\n")
            elif verb == "QUIT":
                self.stats.counts["quit"] += 1
                writer.write(b"221 2.0.0 Bye\r\n")
                return
            elif verb in ("NOOP", "RSET"):
                writer.write(b"250 2.0.0 OK\r\n")
            else:
                writer.write(b"500 5.5.2 Command unrecognized\r\n")

    def _ehlo_reply(self, client: str, in_tls: bool, behavior: str) -> bytes:
        lines = [f"{self.spec.hostname} greets {client or 'you'}", "PIPELINING", "SIZE 52428800"]
        if not in_tls and behavior != "no-starttls":
            lines.append("STARTTLS")
        if in_tls and self.spec.requiretls:
            lines.append("REQUIRETLS")  # RFC 8689 4: advertised on TLS sessions only
        lines += ["8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
        text = "".join(f"250-{line}\r\n" for line in lines[:-1]) + f"250 {lines[-1]}\r\n"
        return text.encode()

    async def _readline(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> str | None:
        await writer.drain()
        try:
            async with asyncio.timeout(IDLE_SECONDS):
                raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            writer.write(b"500 5.5.2 Line too long\r\n")
            return None
        except TimeoutError:
            writer.write(b"421 4.4.2 Idle timeout\r\n")
            return None
        return raw.decode("utf-8", "replace")

    async def _start_tls(self, writer: asyncio.StreamWriter) -> bool:
        try:
            await writer.start_tls(self.tls.context(), ssl_handshake_timeout=30)
        except (ssl.SSLError, ConnectionError, OSError, TimeoutError):
            self.stats.counts["tls_failures"] += 1
            return False
        self.stats.counts["tls_handshakes"] += 1
        sslobj = writer.get_extra_info("ssl_object")
        self.stats.tls_versions[sslobj.version() if sslobj else "?"] += 1
        return True

    async def _drip(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        """One byte a second: the line never ends."""
        peer_gone = asyncio.ensure_future(wait_eof(reader, HOSTILE_LIMIT_SECONDS))
        try:
            index = 0
            while not peer_gone.done() and index < HOSTILE_LIMIT_SECONDS:
                byte = head[index : index + 1] or b"."
                writer.write(byte)
                await writer.drain()
                index += 1
                await asyncio.wait([peer_gone], timeout=1.0)
        finally:
            peer_gone.cancel()

    async def _endless(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        peer_gone = asyncio.ensure_future(wait_eof(reader, HOSTILE_LIMIT_SECONDS))
        try:
            async with asyncio.timeout(HOSTILE_LIMIT_SECONDS):
                await self._endless_lines(writer, host, peer_gone)
        except TimeoutError:
            pass
        finally:
            peer_gone.cancel()

    async def _endless_lines(
        self, writer: asyncio.StreamWriter, host: str, peer_gone: asyncio.Future[bool]
    ) -> None:
        batch = "".join(f"250-{host} endless extension {i}\r\n" for i in range(200)).encode()
        sent = 0
        while not peer_gone.done() and sent < 1024 * 1024 * 1024:
            writer.write(batch)
            await writer.drain()
            sent += len(batch)
            await asyncio.sleep(0)

    async def _long_line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        chunk = b"A" * 65536
        writer.write(b"250-")
        try:
            async with asyncio.timeout(HOSTILE_LIMIT_SECONDS):
                for _ in range(LONG_LINE_BYTES // len(chunk)):
                    writer.write(chunk)
                    await writer.drain()
        except TimeoutError:
            return
        await wait_eof(reader, HOSTILE_LIMIT_SECONDS)


async def close_writer(writer: asyncio.StreamWriter) -> None:
    if writer.transport.is_closing():
        return
    writer.close()
    try:
        async with asyncio.timeout(2):
            await writer.wait_closed()
    except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
        writer.transport.abort()
