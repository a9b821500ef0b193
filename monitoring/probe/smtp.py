"""One polite SMTP STARTTLS dialogue with one MX address: greeting, EHLO, STARTTLS, EHLO, QUIT."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ssl
import warnings
from dataclasses import dataclass, field

from .config import ProbeConfig

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


def client_tls_context() -> ssl.SSLContext:
    """A context that completes a handshake with any certificate, so bad ones can be examined.

    Verification happens afterwards, with cryptography, on the chain the server presented.
    TLS 1.0 and weak algorithms are allowed only so that a legacy-only server can be told apart
    from a broken one; such a handshake is reported as tls-legacy-only, never as working.
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
        context.set_ciphers("ALL:@SECLEVEL=0")
    return context


_TLS_CONTEXT: ssl.SSLContext | None = None


def shared_tls_context() -> ssl.SSLContext:
    global _TLS_CONTEXT
    if _TLS_CONTEXT is None:
        _TLS_CONTEXT = client_tls_context()
    return _TLS_CONTEXT


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


async def _command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str) -> Reply:
    writer.write(line.encode("ascii") + b"\r\n")
    await writer.drain()
    return await read_reply(reader)


def _extensions(reply: Reply) -> tuple[str, ...]:
    # The first line is the server's greeting name; each following line names one extension.
    return tuple(line.split()[0].upper() for line in reply.lines[1:] if line.strip())


async def smtp_dialogue(host: str, ip: str, config: ProbeConfig) -> Dialogue:
    """Run the dialogue under the whole-probe deadline; never raises for network trouble."""
    dialogue = Dialogue(ip=ip)
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(config.probe_timeout):
            try:
                async with asyncio.timeout(config.connect_timeout):
                    reader, writer = await asyncio.open_connection(
                        ip, config.smtp_port, limit=MAX_LINE
                    )
            except TimeoutError:
                raise DialogueError("timeout") from None
            await _converse(reader, writer, host, config, dialogue)
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
        dialogue.detail = _short(exc)
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

    try:
        await writer.start_tls(shared_tls_context(), server_hostname=_sni(host))
    except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
        raise DialogueError("tls-handshake-failed", detail=_short(exc)) from None
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version()
    dialogue.chain_der = presented_chain(ssl_object)
    if version not in MODERN_VERSIONS:
        raise DialogueError("tls-legacy-only", detail=f"negotiated {version}")
    dialogue.tls_version = version
    dialogue.cipher = (ssl_object.cipher() or (None,))[0]

    # The server forgets the pre-TLS state (RFC 3207 §4.2); a second EHLO proves it speaks SMTP
    # over TLS. Trouble from here on does not undo the handshake.
    try:
        again = await _command(reader, writer, f"EHLO {config.ehlo_name}")
        if again.code == 250:
            dialogue.extensions = _extensions(again) or dialogue.extensions
        else:
            dialogue.notes.append(f"EHLO after TLS: {again.text}")
        await _quit(reader, writer)
    except (DialogueError, OSError, ssl.SSLError) as exc:
        dialogue.notes.append(f"after TLS: {_short(exc)}")


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.write(b"QUIT\r\n")
        async with asyncio.timeout(QUIT_WAIT):
            await writer.drain()
            await read_reply(reader)


def _sni(host: str) -> str | None:
    # SNI carries host names only, never IP literals (RFC 6066 §3).
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
