"""One polite SMTP STARTTLS dialogue with one MX address: greeting, EHLO, STARTTLS, EHLO, QUIT."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import warnings
from dataclasses import dataclass, field

from .config import ProbeConfig
from .names import is_ip_literal

# RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers overshoot a little.
MAX_LINE = 4096
# A multi-line reply longer than this is hostile or broken (EHLO lists ~20 lines).
MAX_REPLY_LINES = 100
MAX_REPLY_BYTES = 64 * 1024
QUIT_WAIT = 2.0
# Versions below this do not count as working STARTTLS (docs/probe.md).
MODERN_VERSIONS = {"TLSv1.2", "TLSv1.3"}


class DialogueError(Exception):
    """Ends a dialogue early; its code becomes the address error."""

    def __init__(self, code: str, reply: str | None = None, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.reply = reply  # the server's SMTP reply, when one caused the error
        self.detail = detail  # our own words on what happened (TLS alert, version)


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(f"{self.code} {line}".rstrip() for line in self.lines)[:1024]


@dataclass(slots=True)
class Dialogue:
    """What one address said; filled in step by step so a failure keeps what came before."""

    ip: str
    greeted: bool = False
    starttls: bool = False
    extensions: tuple[str, ...] = ()
    tls_version: str | None = None
    cipher: str | None = None
    chain_der: tuple[bytes, ...] = ()
    error: str | None = None
    smtp_reply: str | None = None
    detail: str | None = None
    tested: bool = False
    notes: list[str] = field(default_factory=list)
    # The mainstream handshake failed (an alert, a reset, no shared suite or version): worth
    # a second, diagnostic session to say why.
    tls_refused: bool = False


# What a mainstream sender (Exchange Online, Gmail, Postfix on a current OpenSSL) offers:
# TLS 1.2 or above, certificate-authenticated suites only, no security level 0 algorithms.
MAINSTREAM_CIPHERS = "DEFAULT:!aNULL:!eNULL:@SECLEVEL=1"
# Everything OpenSSL can still speak, to tell a legacy-only or anonymous-only server apart
# from a broken one once the mainstream handshake has failed.
DIAGNOSTIC_CIPHERS = "ALL:@SECLEVEL=0"


def mainstream_tls_context() -> ssl.SSLContext:
    """The handshake that decides working STARTTLS, as a mainstream sender would make it.

    No verification here: the chain is judged afterwards, with cryptography, on what the
    server presented, so that a bad certificate can still be examined.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(MAINSTREAM_CIPHERS)
    return context


def diagnostic_tls_context() -> ssl.SSLContext:
    """A context that completes a handshake with nearly anything, only to say why it failed.

    TLS 1.0, anonymous suites and security level 0 are allowed only so that a legacy-only or
    anonymous-only server can be told apart from a broken one; such a handshake is reported as
    tls-legacy-only or tls-handshake-failed, never as working.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Deprecated on purpose: we must be able to see a server that speaks nothing newer.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers(DIAGNOSTIC_CIPHERS)
    return context


_CONTEXTS: dict[str, ssl.SSLContext] = {}


def shared_tls_context(kind: str = "mainstream") -> ssl.SSLContext:
    """One context per kind per process: building one costs more than a handshake."""
    context = _CONTEXTS.get(kind)
    if context is None:
        factory = mainstream_tls_context if kind == "mainstream" else diagnostic_tls_context
        context = _CONTEXTS[kind] = factory()
    return context


def presented_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[bytes, ...]:
    """Every certificate the server sent, leaf first, as DER.

    Python 3.13 made get_unverified_chain() public; 3.10 to 3.12 have it on the C-level object
    only. It returns what OpenSSL received (SSL_get0_peer_certificate chain), which is what we
    must judge: a server that omits its intermediate must be seen omitting it. A second
    handshake with pyOpenSSL would cost a connection per address and a dependency for the same
    bytes. If neither method exists, the leaf alone is returned (the chain will then look
    incomplete, which is the honest reading of what we could see).
    """
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        method = getattr(owner, "get_unverified_chain", None)
        if method is None:
            continue
        try:
            chain = method() or []
        except (ssl.SSLError, ValueError):
            continue
        der = []
        for cert in chain:
            der.append(
                cert if isinstance(cert, bytes) else cert.public_bytes(ssl._ssl.ENCODING_DER)
            )
        if der:
            return tuple(der)
    leaf = ssl_object.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    lines: list[str] = []
    total = 0
    code: int | None = None
    while True:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise DialogueError("reply-too-long") from None
        except asyncio.IncompleteReadError as exc:
            raise DialogueError(
                "connection-closed" if not exc.partial else "invalid-reply"
            ) from None
        total += len(raw)
        if len(lines) >= MAX_REPLY_LINES or total > MAX_REPLY_BYTES:
            raise DialogueError("reply-too-long")
        line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] not in " -"):
            raise DialogueError("invalid-reply", detail=f"unexpected line: {line[:200]!r}")
        line_code = int(line[:3])
        if code is not None and line_code != code:
            raise DialogueError("invalid-reply", detail=f"reply code changed: {line[:200]!r}")
        code = line_code
        lines.append(line[4:])
        if len(line) == 3 or line[3] == " ":
            return Reply(code, tuple(lines))


async def _command(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    line: str,
    *,
    ack_at_once: bool = False,
) -> Reply:
    writer.write(line.encode("ascii") + b"\r\n")
    if ack_at_once:
        _quick_ack(writer)
    await writer.drain()
    return await read_reply(reader)


def _quick_ack(writer: asyncio.StreamWriter) -> None:
    """Acknowledge what the server sends next at once rather than after the delayed-ACK timer.

    After a TLS 1.3 handshake the server sends its session tickets, then its answer to our
    EHLO. A server that keeps Nagle's algorithm on (Postfix does) holds that small answer
    until the tickets are acknowledged, and Linux delays that ACK by up to 40 ms when our
    EHLO left before the tickets came: a stall on a fraction of dialogues, each one holding
    up the address's queue. Set after the write, since sending data ends quick-ACK mode.
    Linux only; elsewhere nothing changes.
    """
    option = getattr(socket, "TCP_QUICKACK", None)
    sock = writer.get_extra_info("socket")
    if option is None or sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, 1)


def _extensions(reply: Reply) -> tuple[str, ...]:
    # The first line is the server's greeting name; each following line names one extension.
    return tuple(line.split()[0].upper() for line in reply.lines[1:] if line.strip())


async def smtp_dialogue(host: str, ip: str, config: ProbeConfig) -> Dialogue:
    """Run the dialogue under the whole-probe deadline; never raises for network trouble.

    The first session offers what a mainstream sender offers. Only when that handshake is
    refused does a second session, within the same deadline, try everything OpenSSL can speak,
    to report why (legacy-only, anonymous suites only, security level 0 only).
    """
    deadline = asyncio.get_running_loop().time() + config.probe_timeout
    dialogue = await _session(host, ip, config, deadline, diagnose=False)
    if dialogue.error == "tls-handshake-failed" and dialogue.tls_refused:
        diagnosis = await _session(host, ip, config, deadline, diagnose=True)
        detail = diagnosis.detail or ""
        if diagnosis.error == "tls-legacy-only" or detail.startswith(DIAGNOSED):
            # The diagnostic handshake completed: its reading replaces "refused", and its
            # chain can still be examined (a legacy server's certificate expires too).
            dialogue.error = diagnosis.error
            dialogue.detail = detail.removeprefix(DIAGNOSED)
            dialogue.chain_der = diagnosis.chain_der
    return dialogue


# Marks a detail that the diagnostic session established (as opposed to a plain failure).
DIAGNOSED = "diagnosed: "


async def _session(
    host: str, ip: str, config: ProbeConfig, deadline: float, *, diagnose: bool
) -> Dialogue:
    dialogue = Dialogue(ip=ip)
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout_at(deadline):
            try:
                async with asyncio.timeout(config.connect_timeout):
                    reader, writer = await asyncio.open_connection(
                        ip, config.smtp_port, limit=MAX_LINE
                    )
            except TimeoutError:
                raise DialogueError("timeout") from None
            await _converse(reader, writer, host, config, dialogue, diagnose)
    except DialogueError as exc:
        dialogue.error = exc.code
        dialogue.smtp_reply = exc.reply
        dialogue.detail = exc.detail
    except TimeoutError:
        dialogue.error = "timeout"
    except ConnectionRefusedError:
        dialogue.error = "connection-refused"
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        dialogue.error = "connection-reset"
    except ssl.SSLError as exc:
        dialogue.error = "tls-handshake-failed"
        dialogue.detail = short_error(exc)
    except OSError as exc:
        dialogue.error = _os_error_code(exc)
    finally:
        if writer is not None:
            writer.transport.abort()
    dialogue.tested = dialogue.greeted
    return dialogue


def _os_error_code(exc: OSError) -> str:
    if exc.errno in (
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.EADDRNOTAVAIL,
        errno.EAFNOSUPPORT,
    ):
        return "network-unreachable"
    if exc.errno == errno.ECONNREFUSED:
        return "connection-refused"
    if exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return "connection-reset"
    return "connection-failed"


async def _converse(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    config: ProbeConfig,
    dialogue: Dialogue,
    diagnose: bool = False,
) -> None:
    greeting = await read_reply(reader)
    if greeting.code != 220:
        family = {4: "greeting-4xx", 5: "greeting-5xx"}.get(greeting.code // 100, "invalid-reply")
        await _quit(reader, writer)
        raise DialogueError(family, greeting.text)
    dialogue.greeted = True

    ehlo = await _command(reader, writer, f"EHLO {config.ehlo_name}")
    if ehlo.code != 250:
        await _quit(reader, writer)
        if ehlo.code // 100 == 4:
            # A 421 or other temporary refusal: untestable this time, retried next cycle.
            dialogue.greeted = False
            raise DialogueError("ehlo-4xx", ehlo.text)
        raise DialogueError("ehlo-rejected", ehlo.text)
    dialogue.extensions = _extensions(ehlo)
    dialogue.starttls = "STARTTLS" in dialogue.extensions
    if not dialogue.starttls:
        await _quit(reader, writer)
        raise DialogueError("starttls-not-offered")

    answer = await _command(reader, writer, "STARTTLS")
    if answer.code != 220:
        await _quit(reader, writer)
        raise DialogueError("starttls-rejected", answer.text)

    context = shared_tls_context("diagnostic" if diagnose else "mainstream")
    try:
        await writer.start_tls(context, server_hostname=_sni(host))
    except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
        # An alert, or a server that just drops a ClientHello it cannot serve (some reset
        # the connection when no version or suite is shared).
        dialogue.tls_refused = True
        raise DialogueError("tls-handshake-failed", detail=short_error(exc)) from None
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version()
    cipher = (ssl_object.cipher() or (None,))[0]
    dialogue.chain_der = presented_chain(ssl_object)
    if version not in MODERN_VERSIONS:
        raise DialogueError("tls-legacy-only", detail=f"negotiated {version} {cipher}")
    if diagnose:
        # The mainstream handshake failed and this one completed: say what it took.
        if not dialogue.chain_der:
            why = f"anonymous cipher suites only (negotiated {version} {cipher})"
        else:
            why = f"completes only at OpenSSL security level 0 (negotiated {version} {cipher})"
        raise DialogueError("tls-handshake-failed", detail=DIAGNOSED + why)
    dialogue.tls_version = version
    dialogue.cipher = cipher

    # The server forgets the pre-TLS state (RFC 3207 §4.2); a second EHLO proves it speaks SMTP
    # over TLS. Trouble from here on does not undo the handshake.
    try:
        again = await _command(reader, writer, f"EHLO {config.ehlo_name}", ack_at_once=True)
        if again.code == 250:
            dialogue.extensions = _extensions(again) or dialogue.extensions
        else:
            dialogue.notes.append(f"EHLO after TLS: {again.text}")
        await _quit(reader, writer)
    except (DialogueError, OSError, ssl.SSLError) as exc:
        dialogue.notes.append(f"after TLS: {short_error(exc)}")


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.write(b"QUIT\r\n")
        async with asyncio.timeout(QUIT_WAIT):
            await writer.drain()
            await read_reply(reader)


def _sni(host: str) -> str | None:
    # SNI carries host names only, never IP literals (RFC 6066 §3).
    return None if is_ip_literal(host) else host


def short_error(exc: BaseException) -> str:
    """An exception in a few words for a detail: its message, or its type when it has none."""
    return (str(exc) or type(exc).__name__)[:200]
