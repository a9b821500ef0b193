"""Django app configuration of the dashboard (pages only; it has no models)."""

from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "monitoring.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
