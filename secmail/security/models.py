"""Audit events that are not row changes: logins, second factor, imports, exports, probes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One thing a person did (or tried), with when and from which client address.

    Registry rows' changes (organizations, domains, contacts, partnerships, memberships) are
    kept by django-auditlog; this table holds the actions that change no single row.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as typed: a failed login names an account that may not exist, and users get deleted.
    username = models.CharField(_("user"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.username}"
