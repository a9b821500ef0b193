"""Django app configuration of comply-or-explain."""

from __future__ import annotations

from django.apps import AppConfig


class ExplanationsConfig(AppConfig):
    name = "monitoring.explanations"
    label = "explanations"
    verbose_name = "Explanations"
