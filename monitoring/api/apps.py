"""Django app configuration of the API (its tokens are its only model)."""

from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "monitoring.api"
    label = "api"
    verbose_name = "API"
