"""How a probe reaches the network: resolvers, trust store, ports, deadlines, clock.

Also the checks of the SECMAIL_* values that the probe's command line and the product's
settings share (secmail/env.py cannot be imported here: it needs Django). Each raises
ValueError saying why; the caller names the variable.
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f", ""})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    # (ip, port) pairs; empty means the system resolver (/etc/resolv.conf).
    resolvers: tuple[tuple[str, int], ...] = ()
    # PEM file of trusted roots; None means the Mozilla bundle shipped by certifi.
    ca_bundle: str | None = None
    smtp_port: int = 25
    # Port of the MTA-STS policy host; only a loopback lab changes it.
    https_port: int = 443
    ehlo_name: str = field(default_factory=socket.getfqdn)
    connect_timeout: float = 10.0
    # Deadline for one MX address, every step included.
    probe_timeout: float = 30.0
    # Deadline for one DNS question, all retries included.
    dns_timeout: float = 5.0
    # How many SMTP/HTTPS connections may be open at once over the whole batch.
    max_connections: int = 64
    # How many DNS questions may be in flight at once: a burst of thousands overflows the
    # resolver's receive buffer and turns into timeouts.
    max_dns_queries: int = 48
    # How many connections may be open at once to one IP address (politeness).
    per_address_connections: int = 1
    # Deadline for a whole batch; None means only the per-address deadlines apply.
    batch_timeout: float | None = None
    # Connect to loopback, private, link-local and other non-global addresses, and fetch AIA
    # URLs on any port. Only a lab on loopback needs it; production never does, since an MX,
    # policy host or certificate URL is chosen by whoever controls the probed domain.
    allow_nonpublic: bool = False
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        checks: Sequence[tuple[bool, str]] = (
            (0 < self.smtp_port < 65536, f"smtp_port out of range: {self.smtp_port}"),
            (0 < self.https_port < 65536, f"https_port out of range: {self.https_port}"),
            (self.connect_timeout > 0, "connect_timeout must be positive"),
            (self.probe_timeout > 0, "probe_timeout must be positive"),
            (self.dns_timeout > 0, "dns_timeout must be positive"),
            (self.max_connections >= 1, "max_connections must be at least 1"),
            (self.max_dns_queries >= 1, "max_dns_queries must be at least 1"),
            (self.per_address_connections >= 1, "per_address_connections must be at least 1"),
            (bool(self.ehlo_name.strip()), "ehlo_name must not be empty"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def may_connect(self, ip: str) -> bool:
        """Whether the probe may open a connection to this (already resolved) address."""
        return self.allow_nonpublic or is_public_address(ip)


def is_public_address(ip: str) -> bool:
    """Globally routable: not loopback, private, link-local, shared (CGNAT), ULA or reserved."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        # ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it stands for.
        address = mapped
    return address.is_global


def parse_resolvers(value: str) -> tuple[tuple[str, int], ...]:
    """Parse "ip, ip:port, [v6]:port, v6" as SECMAIL_DNS_RESOLVERS takes it."""
    return tuple(parse_resolver(item.strip()) for item in value.split(",") if item.strip())


def parse_resolver(item: str) -> tuple[str, int]:
    """Parse one resolver written `ip`, `ip:port`, `v6`, or `[v6]:port` into (ip, port)."""
    port_text = ""
    if item.startswith("["):
        host, sep, rest = item[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 resolver as [::1]:53 or ::1")
        port_text = rest[1:]
        if rest and not port_text:
            raise ValueError("empty port after ':'")
    elif item.count(":") == 1:
        host, _, port_text = item.partition(":")
        if not port_text:
            raise ValueError("empty port after ':'")
    else:
        # No colon (IPv4) or several (a bare IPv6 address, which cannot carry a port).
        host = item
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    port = 53
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{port_text!r} is not a port number (1-65535)")
        port = int(port_text)
    return str(ip), port


def parse_bool(text: str) -> bool:
    """A yes/no word in any case (empty is no)."""
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("expected a boolean such as 1/0, true/false, yes/no, on/off")


def parse_seconds(text: str) -> float:
    """A strictly positive, finite duration in seconds (a zero timeout would mean 'never wait')."""
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("must be a positive number of seconds")
    return seconds


def check_file(path: str) -> str:
    """The path of an existing file, as given."""
    if not Path(path).is_file():
        raise ValueError("no such file")
    return path


def check_host_name(name: str) -> str:
    """A host name for EHLO, as given: ASCII, no white space."""
    if any(ch.isspace() for ch in name) or not name.isascii():
        raise ValueError("expected an ASCII host name without spaces")
    return name
