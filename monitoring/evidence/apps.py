"""Django app configuration of the evidence room."""

from __future__ import annotations

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "monitoring.evidence"
    label = "evidence"
    verbose_name = "Evidence from real mail"
    default_auto_field = "django.db.models.BigAutoField"
