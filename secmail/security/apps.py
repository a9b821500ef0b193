"""Django app configuration of the web side's protections."""

from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "secmail.security"
    label = "security"
    verbose_name = "Security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secmail.security import signals  # noqa: F401  (connects the audit receivers)
