"""Explicit audit events: who did what, when, from which client address."""

from __future__ import annotations

import logging

from django.http import HttpRequest

logger = logging.getLogger("secmail.audit")


def record(
    request: HttpRequest | None, action: str, *, detail: str = "", user: object = None
) -> None:
    """Log one event (stored in the audit trail once it exists)."""
    from secmail.security.client import client_address

    actor = user if user is not None else getattr(request, "user", None)
    logger.info(
        "%s user=%s address=%s %s",
        action,
        getattr(actor, "pk", None),
        client_address(request) if request is not None else "",
        detail,
    )
