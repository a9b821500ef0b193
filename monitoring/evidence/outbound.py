"""The outbound rule: how an organization's gateways send, judged from observed messages.

The one place that turns observed gateways into `tls`, `legacy-tls`, `plaintext` or
`unknown` (the words themselves belong to monitoring.levels, which also owns what each does
to a pair: levels.pair_verdict).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitoring.levels import OUTBOUND_LEGACY_TLS as LEGACY_TLS
from monitoring.levels import OUTBOUND_PLAINTEXT as PLAINTEXT
from monitoring.levels import OUTBOUND_TLS as TLS
from monitoring.levels import OUTBOUND_UNKNOWN as UNKNOWN

# Only recent messages describe the gateways an organization uses today.
OUTBOUND_WINDOW = timedelta(days=30)
# What mainstream receivers still accept and the standard asks for.
MODERN_TLS_VERSIONS = frozenset({"TLSv1.2", "TLSv1.3"})

# Worst first: the worst authenticated gateway decides.
_SEVERITY = {PLAINTEXT: 0, LEGACY_TLS: 1, TLS: 2}


@dataclass(frozen=True, slots=True)
class Gateway:
    """The latest message from one client address to an organization's test address."""

    ip: str
    helo: str
    mail_from_domain: str
    tls_version: str | None
    cipher: str | None
    seen_at: datetime
    authenticated: bool
    reason: str  # why it counts, or why not ("SPF pass for example.ca", ...)
    spf_result: str = ""
    dkim_result: str = ""
    dkim_domain: str = ""

    @property
    def outbound(self) -> str:
        return gateway_outbound(self.tls_version)


def gateway_outbound(tls_version: str | None) -> str:
    """`tls` for TLS 1.2 or above, `legacy-tls` for older TLS, `plaintext` without TLS."""
    if not tls_version:
        return PLAINTEXT
    return TLS if tls_version in MODERN_TLS_VERSIONS else LEGACY_TLS


def outbound_verdict(gateways: Iterable[Gateway]) -> str:
    """The organization's outbound: its worst authenticated gateway; `unknown` without one.

    Callers pass the gateways of the window (OUTBOUND_WINDOW). Unauthenticated gateways are
    ignored: anyone who learns a test address can send to it, so such a message can neither
    improve nor worsen the verdict.
    """
    worst: str | None = None
    for gateway in gateways:
        if not gateway.authenticated:
            continue
        outbound = gateway.outbound
        if worst is None or _SEVERITY[outbound] < _SEVERITY[worst]:
            worst = outbound
    return worst or UNKNOWN
