"""Notification state: the outbox of rendered emails, and the MX sets alerts were sent about."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import MailDomain


class OutboxMessage(models.Model):
    """An email rendered and waiting to be sent; `dedupe_key` makes each one exist once.

    Sending claims the row first (state queued -> sending with a conditional UPDATE), so two
    workers or overlapping runs never send it twice; a failed attempt puts it back in the queue
    with a later `next_attempt_at`.
    """

    class Kind(models.TextChoices):
        DIGEST = "digest", _("Digest")
        ALERT = "alert", _("Alert")
        STAFF_DIGEST = "staff-digest", _("Staff digest")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # e.g. "digest:12:2026-W48", "alert:expiry:<sha256>:7:it@example.ca"
    dedupe_key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    contact = models.ForeignKey(
        "partners.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table keeps the name it had when the model lived in the monitoring app.
        db_table = "monitoring_outboxmessage"
        ordering = ["-created"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="queued"),
                name="outbox_due",
            ),
            models.Index(fields=["contact", "kind", "created"], name="outbox_contact_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.state})"


class MxSetSeen(models.Model):
    """The MX host set a domain was last alerted about; `version` moves on every change."""

    domain = models.OneToOneField(
        MailDomain, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    hosts = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "monitoring_mxsetseen"

    def __str__(self) -> str:
        return f"{self.domain_id}: {', '.join(self.hosts)} (v{self.version})"
