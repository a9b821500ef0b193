"""The receiving SMTP service (aiosmtpd): records how test messages arrive, takes TLS reports.

Everything a client sends is hostile until checked: each client gets bounded connections,
messages per minute, commands, idle time and session time; a message is bounded in size and
never relayed or kept. Database and DNS work runs in a small thread pool off the event loop,
so one slow check never stalls the other sessions.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from aiosmtpd.smtp import SMTP, Envelope, Session

from monitoring.evidence.services import IngestOutcome, Recipient
from monitoring.evidence.tlsrpt import ReportRejected

log = logging.getLogger(__name__)
T = TypeVar("T")

IDENT = "secmail receiver"
# SPF (bounded at 10 s) plus a few DKIM questions (5 s each) and two database writes.
CHECK_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    domain: str
    hostname: str
    listen: tuple[tuple[str, int], ...]
    tls_cert: str
    tls_key: str
    max_message_bytes: int = 10 * 1024 * 1024
    max_connections: int = 200
    max_connections_per_client: int = 10
    messages_per_minute: int = 30
    max_commands: int = 100
    idle_seconds: float = 120.0
    session_seconds: float = 600.0
    max_recipients: int = 20

    @classmethod
    def from_settings(cls) -> ReceiverConfig:
        from django.conf import settings

        from monitoring.evidence.services import ReceiverNotConfigured, receiver_domain

        cert, key = settings.SECMAIL_RECEIVER_TLS_CERT, settings.SECMAIL_RECEIVER_TLS_KEY
        if not cert or not key:
            # Without STARTTLS every sender would look like a plain-text sender.
            raise ReceiverNotConfigured(
                "SECMAIL_RECEIVER_TLS_CERT and SECMAIL_RECEIVER_TLS_KEY must name the "
                "receiver's certificate and key: it must offer STARTTLS"
            )
        return cls(
            domain=receiver_domain(),
            hostname=settings.SECMAIL_EHLO_NAME,
            listen=tuple(settings.SECMAIL_RECEIVER_LISTEN),
            tls_cert=cert,
            tls_key=key,
            max_message_bytes=settings.SECMAIL_RECEIVER_MAX_MESSAGE_BYTES,
            max_connections=settings.SECMAIL_RECEIVER_MAX_CONNECTIONS,
            max_connections_per_client=settings.SECMAIL_RECEIVER_MAX_CONNECTIONS_PER_CLIENT,
            messages_per_minute=settings.SECMAIL_RECEIVER_MESSAGES_PER_MINUTE,
            max_commands=settings.SECMAIL_RECEIVER_MAX_COMMANDS,
            idle_seconds=settings.SECMAIL_RECEIVER_IDLE_SECONDS,
            session_seconds=settings.SECMAIL_RECEIVER_SESSION_SECONDS,
        )


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """Accept every TLS version down to 1.0 and any cipher: the point is to record what the
    sender really does, not to refuse it (a refused handshake makes senders fall back to
    plain text, which would hide the version they tried)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated on purpose: see above
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.load_cert_chain(cert, key)
    return context


class Backend(Protocol):
    """What the receiver needs from storage; blocking calls, run in the thread pool."""

    def resolve(self, address: str) -> Recipient | None: ...

    def record(
        self,
        *,
        organization_ids: list[int],
        client_ip: str,
        helo: str,
        mail_from: str | None,
        tls_version: str | None,
        cipher: str | None,
        message: bytes,
    ) -> None: ...

    def ingest_report(self, *, message: bytes, source: str) -> IngestOutcome: ...


class ClientLimits:
    """Connections and message rate per client address, and connections overall."""

    def __init__(self, config: ReceiverConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.connections: Counter[str] = Counter()
        self.messages: dict[str, deque[float]] = {}

    def open(self, ip: str) -> str | None:
        """Count a new connection; the 421 reply to send instead when over a limit."""
        if sum(self.connections.values()) >= self.config.max_connections:
            return "421 4.3.2 Too busy; try again later"
        if self.connections[ip] >= self.config.max_connections_per_client:
            return "421 4.7.0 Too many connections from your address; try again later"
        self.connections[ip] += 1
        return None

    def close(self, ip: str) -> None:
        self.connections[ip] -= 1
        if self.connections[ip] <= 0:
            del self.connections[ip]

    def allow_message(self, ip: str) -> bool:
        now = self.clock()
        times = self.messages.setdefault(ip, deque())
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.config.messages_per_minute:
            return False
        times.append(now)
        if len(self.messages) > 10_000:  # forget quiet clients so the table stays small
            for other in [k for k, v in self.messages.items() if not v or now - v[-1] > 60]:
                del self.messages[other]
        return True


def _reply_text(text: str) -> str:
    # A reason goes into an SMTP reply line: ASCII, one line, bounded.
    return re.sub(r"[^\x20-\x7e]", "?", text)[:400]


class ReceiverHandler:
    """aiosmtpd hooks: who may be written to, what a message records, reports ingested."""

    def __init__(
        self,
        config: ReceiverConfig,
        backend: Backend,
        limits: ClientLimits,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.config = config
        self.backend = backend
        self.limits = limits
        self.executor = executor

    async def _run(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self.executor, partial(function, **kwargs))
        return await asyncio.wait_for(call, CHECK_SECONDS)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.limits.allow_message(_peer_ip(session)):
            return "451 4.7.1 Too many messages from your address; try again in a minute"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        envelope.secmail_recipients = []  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return "452 4.5.3 Too many recipients"
        recipient = await self._run(self.backend.resolve, address=address)
        if recipient is None:
            # Never relays: anything but a known address here is refused for good.
            return f"550 5.1.1 <{_reply_text(address)[:200]}>: no such recipient here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        envelope.secmail_recipients.append(recipient)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        recipients: list[Recipient] = getattr(envelope, "secmail_recipients", [])
        message = envelope.original_content or b""
        ip = _peer_ip(session)
        replies = []
        if any(r.kind == "tlsrpt" for r in recipients):
            # Checked before the final reply, so a bad report is refused at the end of DATA.
            try:
                outcome = await self._run(self.backend.ingest_report, message=message, source=ip)
            except ReportRejected as exc:
                return f"550 5.6.0 TLS report rejected: {_reply_text(str(exc))}"
            replies.append(
                "duplicate report ignored" if outcome.status == "duplicate" else "report stored"
            )
        organization_ids = sorted({r.organization_id for r in recipients if r.organization_id})
        if organization_ids:
            version, cipher = _tls_of(session)
            await self._run(
                self.backend.record,
                organization_ids=organization_ids,
                client_ip=ip,
                helo=session.host_name or "",
                mail_from=envelope.mail_from,
                tls_version=version,
                cipher=cipher,
                message=message,
            )
            replies.append("how your message arrived is recorded")
        return "250 2.0.0 OK: " + "; ".join(replies)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TimeoutError):
            return "451 4.4.3 Checks took too long; try again later"
        log.exception("receiver: error while handling a command")
        return "451 4.3.0 Local error; try again later"


def _ip(peer: object) -> str:
    """The address of a peer name (a tuple for IP sockets)."""
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)


def _peer_ip(session: Session) -> str:
    return _ip(session.peer)


def _tls_of(session: Session) -> tuple[str | None, str | None]:
    extra = session.ssl or {}
    ssl_object = extra.get("ssl_object")
    if ssl_object is None:
        return None, None
    cipher = ssl_object.cipher()
    return ssl_object.version(), cipher[0] if cipher else None


class ReceiverSMTP(SMTP):
    """aiosmtpd's SMTP with per-client connection limits and a deadline per session."""

    def __init__(self, handler: ReceiverHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._limits = handler.limits
        self._session_seconds = handler.config.session_seconds
        self._counted_ip: str | None = None
        self._refusal: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._started = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._started:  # the first call; STARTTLS calls it again for the TLS layer
            self._started = True
            ip = _ip(transport.get_extra_info("peername"))
            self._refusal = self._limits.open(ip)
            if self._refusal is None:
                self._counted_ip = ip
                self._deadline = self.loop.call_later(self._session_seconds, self._expire)
        super().connection_made(transport)

    async def _handle_client(self) -> None:
        if self._refusal is not None:
            await self.push(self._refusal)
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    def _expire(self) -> None:
        if self.transport is not None:
            self.transport.write(b"421 4.4.2 Session time limit reached\r\n")
            self.transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted_ip is not None:
            self._limits.close(self._counted_ip)
            self._counted_ip = None
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(error)


class Receiver:
    """Listening sockets for every configured address; `start()` returns them bound."""

    def __init__(self, config: ReceiverConfig, backend: Backend, *, workers: int = 4) -> None:
        self.config = config
        self.context = tls_context(config.tls_cert, config.tls_key)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="receiver")
        self.handler = ReceiverHandler(config, backend, ClientLimits(config), self.executor)
        self.servers: list[asyncio.base_events.Server] = []

    def _protocol(self) -> ReceiverSMTP:
        return ReceiverSMTP(
            self.handler,
            data_size_limit=self.config.max_message_bytes,
            hostname=self.config.hostname,
            ident=IDENT,
            tls_context=self.context,
            timeout=self.config.idle_seconds,
            command_call_limit=self.config.max_commands,
            # Rejecting 8-bit or UTF-8 mail would make some gateways fall back or bounce.
            enable_SMTPUTF8=True,
        )

    async def start(self) -> list[tuple[str, int]]:
        loop = asyncio.get_running_loop()
        bound = []
        for host, port in self.config.listen:
            server = await loop.create_server(self._protocol, host, port, reuse_address=True)
            self.servers.append(server)
            bound.extend((s.getsockname()[0], s.getsockname()[1]) for s in server.sockets)
        return bound

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        self.executor.shutdown(wait=False, cancel_futures=True)


async def serve(receiver: Receiver, on_ready: Callable[[list[tuple[str, int]]], None]) -> None:
    """Listen until SIGTERM or SIGINT, then stop accepting and close."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bound = await receiver.start()
    on_ready(bound)
    try:
        await stop.wait()
    finally:
        await receiver.close()
