"""Django app configuration of the Received-header analyzer (no models)."""

from __future__ import annotations

from django.apps import AppConfig


class HeadersConfig(AppConfig):
    name = "monitoring.headers"
    label = "headers"
    verbose_name = "Received-header analyzer"
