"""Counters the lab servers keep and report through the control channel."""

from __future__ import annotations

from collections import Counter
from typing import Any


class ServerStats:
    """Connection counters of one server (one address)."""

    COUNTERS = (
        "connections",
        "tls_handshakes",
        "tls_failures",
        "ehlo",
        "helo",
        "starttls",
        "mail_from",
        "rcpt_to",
        "data",
        "quit",
        "requests",
    )

    def __init__(self, address: str) -> None:
        self.address = address
        self.reset()

    def reset(self) -> None:
        self.counts: Counter[str] = Counter()
        self.tls_versions: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        # Connections still open at reset are not counted again, but keep `active` true.
        self.active = getattr(self, "active", 0)
        self.max_concurrent = self.active

    def opened(self) -> None:
        self.counts["connections"] += 1
        self.active += 1
        self.max_concurrent = max(self.max_concurrent, self.active)

    def closed(self) -> None:
        self.active -= 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.counts[name] for name in self.COUNTERS}
        out["mail_commands"] = (
            self.counts["mail_from"] + self.counts["rcpt_to"] + self.counts["data"]
        )
        out.update(
            address=self.address,
            active=self.active,
            max_concurrent=self.max_concurrent,
            tls_versions=dict(self.tls_versions),
        )
        if self.paths:
            out["paths"] = dict(self.paths)
        return out


class DnsStats:
    """Query log of the DNS server, aggregated."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.counts: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.by_rcode: Counter[str] = Counter()
        self.by_query: Counter[str] = Counter()

    def to_json(self) -> dict[str, Any]:
        return {
            "queries": self.counts["queries"],
            "udp": self.counts["udp"],
            "tcp": self.counts["tcp"],
            "truncated": self.counts["truncated"],
            "dropped": self.counts["dropped"],
            "ad": self.counts["ad"],
            "by_type": dict(self.by_type),
            "by_rcode": dict(self.by_rcode),
            # "name TYPE" -> count: lets tests check that a name was resolved once.
            "by_query": dict(self.by_query),
        }
