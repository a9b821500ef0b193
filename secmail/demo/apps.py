"""Django app configuration of the demo and benchmark data (commands only, no models)."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "secmail.demo"
    label = "demo"
    verbose_name = "Demo and benchmark data"
