"""Plain-tool clients (dnspython, ssl, smtplib, sockets) the self-tests check the lab with."""

from __future__ import annotations

import _ssl
import smtplib
import socket
import ssl
import time
import warnings

import dns.message
import dns.query
import dns.resolver
from cryptography import x509

from tests.lab import LabHandle


def resolver(lab: LabHandle) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    host, port = lab.resolver_address
    res.nameservers = [host]
    res.port = port
    res.lifetime = 3
    return res


def query(lab: LabHandle, name: str, rdtype: str, *, tcp: bool = False, timeout: float = 2, **kw):
    host, port = lab.resolver_address
    q = dns.message.make_query(name, rdtype, **kw)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=timeout)
    return dns.query.udp(q, host, port=port, timeout=timeout)


def server_address(lab: LabHandle, server: str) -> tuple[str, int]:
    return lab.servers[server]["address"], lab.smtp_port


def connect(lab: LabHandle, server: str, timeout: float = 5) -> socket.socket:
    address, port = server_address(lab, server)
    return socket.create_connection((address, port), timeout=timeout)


def smtp(lab: LabHandle, server: str, timeout: float = 5) -> smtplib.SMTP:
    address, port = server_address(lab, server)
    return smtplib.SMTP(address, port, local_hostname="probe.lab.test", timeout=timeout)


def permissive_context(
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> ssl.SSLContext:
    """A client that sees every certificate and, when asked, every protocol version."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 is deprecated, on purpose
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    return ctx


def presented_chain(sock: ssl.SSLSocket) -> list[x509.Certificate]:
    # Python 3.13 has SSLSocket.get_unverified_chain(); 3.11 has it on the private object.
    chain = sock._sslobj.get_unverified_chain() or []  # type: ignore[union-attr]
    return [x509.load_der_x509_certificate(c.public_bytes(_ssl.ENCODING_DER)) for c in chain]


def starttls(
    lab: LabHandle, server: str, ctx: ssl.SSLContext | None = None, sni: str | None = None
) -> tuple[smtplib.SMTP, ssl.SSLSocket]:
    client = smtp(lab, server)
    client.ehlo()
    host = sni or lab.servers[server]["hostname"]
    client._host = host  # smtplib sends _host as SNI
    client.starttls(context=ctx or permissive_context())
    assert isinstance(client.sock, ssl.SSLSocket)
    return client, client.sock


def recv_for(sock: socket.socket, seconds: float, limit: int = 1 << 20) -> bytes:
    """Everything the server sends within ``seconds`` (or until ``limit`` bytes or EOF)."""
    data = b""
    deadline = time.monotonic() + seconds
    while len(data) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_reply(sock: socket.socket, seconds: float = 2) -> bytes:
    """One complete SMTP reply (through its last line, ``NNN text``), or what came in time."""
    data = b""
    deadline = time.monotonic() + seconds
    while True:
        lines = data.split(b"\r\n")
        if len(lines) > 1 and any(len(line) > 3 and line[3:4] == b" " for line in lines[:-1]):
            return data
        left = deadline - time.monotonic()
        if left <= 0:
            return data
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data
        if not chunk:
            return data
        data += chunk
