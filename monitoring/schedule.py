"""When each domain is due: cycle windows aligned to the epoch, a stable slot per MX host."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def batch_size() -> int:
    return settings.SECMAIL_BATCH_SIZE


def cycle_period() -> timedelta:
    return timedelta(hours=settings.SECMAIL_CYCLE_HOURS)


def stall_after() -> timedelta:
    """How long a domain sent to the workers may show no sign of life before it is sent again.

    A running batch renews its domains' lease every `lease_renewal()`, so only a batch whose
    worker died (or one still waiting in the queue) goes this long without renewing.
    """
    return timedelta(minutes=settings.SECMAIL_STALL_MINUTES)


def lease_renewal() -> timedelta:
    # Three renewals per stall period: one late or failed renewal never looks like a death.
    return stall_after() / 3


def window_start(moment: datetime, period: timedelta | None = None) -> datetime:
    """The start of the scheduling window holding `moment` (windows aligned to the epoch)."""
    period = period or cycle_period()
    return EPOCH + ((moment - EPOCH) // period) * period


def schedule_phase(key: str, period: timedelta | None = None) -> timedelta:
    """A stable offset into the window for a scheduling key (the MX host, else the domain).

    Hashing the MX host rather than the domain puts every domain of a shared provider in the
    same slot, hence the same batch, so the probe talks to that provider once per cycle.
    """
    period = period or cycle_period()
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % int(period.total_seconds()))


def next_due(checked_at: datetime, key: str, period: timedelta | None = None) -> datetime:
    """The domain's slot in the window after the one it was checked in: never twice a window."""
    period = period or cycle_period()
    return window_start(checked_at, period) + period + schedule_phase(key, period)
