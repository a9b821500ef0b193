"""Explanations and accepted exceptions; every version is a row, the latest one is current."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Organization


class Explanation(models.Model):
    class Kind(models.TextChoices):
        # Written by the organization's admin: why it is below verified, and until when.
        EXPLANATION = "explanation", _("Explanation")
        # Recorded by staff: the industry accepts the situation.
        EXCEPTION = "exception", _("Accepted exception")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="explanations"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EXPLANATION)
    # "" withdraws the previous version (kept as history).
    text = models.TextField(blank=True)
    target_date = models.DateField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["organization", "kind", "created"], name="explanation_current")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.organization_id} at {self.created:%Y-%m-%d}"
