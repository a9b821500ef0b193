"""Writes and reads of the audit trail: explicit events and django-auditlog's row changes."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from auditlog.models import LogEntry
from django.http import HttpRequest

from secmail.security.client import client_address
from secmail.security.models import AuditEvent

logger = logging.getLogger("secmail.audit")

ACTIONS = (
    "login",
    "login-failed",
    "logout",
    "second-factor-enrolled",
    "second-factor-verified",
    "second-factor-failed",
    "import",
    "export",
    "probe-started",
)


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record(
    request: HttpRequest | None,
    action: str,
    *,
    detail: str = "",
    user: object = None,
    username: str = "",
) -> AuditEvent:
    """Store one event: the actor is `user`, else the request's signed-in user."""
    actor = user if user is not None else getattr(request, "user", None)
    if not getattr(actor, "is_authenticated", False):
        actor = None
    name = username or (actor.get_username() if actor is not None else "")  # type: ignore[attr-defined]
    event = AuditEvent.objects.create(
        actor=actor,
        username=name[:254],
        action=action,
        address=_address(request),
        detail=detail[:500],
    )
    logger.info("%s user=%s address=%s %s", action, name, event.address or "", detail)
    return event


@dataclass(frozen=True, slots=True)
class TrailRow:
    at: datetime
    username: str
    address: str
    action: str
    subject: str
    detail: str


def trail(
    *, action: str = "", username: str = "", since: datetime | None = None, limit: int = 500
) -> list[TrailRow]:
    """The latest events and registry changes, newest first, filtered."""
    events = AuditEvent.objects.all()
    changes = LogEntry.objects.select_related("actor", "content_type")
    if username:
        events = events.filter(username__icontains=username)
        changes = changes.filter(actor__username__icontains=username)
    if since is not None:
        events = events.filter(at__gte=since)
        changes = changes.filter(timestamp__gte=since)
    if action.startswith("change"):
        events = events.none()
    elif action:
        events = events.filter(action=action)
        changes = changes.none()
    rows = [
        TrailRow(e.at, e.username, e.address or "", e.action, "", e.detail) for e in events[:limit]
    ]
    rows += [
        TrailRow(
            c.timestamp,
            c.actor.get_username() if c.actor else "",
            c.remote_addr or "",
            f"change:{c.get_action_display().lower()}",
            f"{c.content_type.model} {c.object_repr}",
            c.changes_str[:500] if c.changes else "",
        )
        for c in changes[:limit]
    ]
    rows.sort(key=lambda row: row.at, reverse=True)
    return rows[:limit]


def trail_csv_rows(rows: list[TrailRow]) -> Iterator[list[str]]:
    yield ["time", "user", "client_address", "action", "subject", "detail"]
    for row in rows:
        yield [row.at.isoformat(), row.username, row.address, row.action, row.subject, row.detail]
