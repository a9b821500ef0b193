"""Audit receivers: every login success and failure, every logout; registry rows to auditlog."""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from partners.models import Contact, MailDomain, Membership, Organization, Partnership
from secmail.security import audit, throttle
from secmail.security.client import client_address

for model in (Organization, MailDomain, Contact, Partnership, Membership):
    if not auditlog.contains(model):
        auditlog.register(model)


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:  # test clients' force_login has no request to speak of
        audit.record(request, "login", user=user, detail=request.path)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    if request is not None:
        username = str(credentials.get("username", ""))
        audit.record(request, "login-failed", username=username, detail=request.path)
        throttle.address_failed(client_address(request))


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and user is not None:
        audit.record(request, "logout", user=user)
