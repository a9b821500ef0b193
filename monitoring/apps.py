"""Django app configuration of the monitoring pipeline."""

from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Registers the pipeline's tasks in every process (web too), so that services can
        # enqueue them by name without importing the module that imports them.
        from monitoring import tasks  # noqa: F401
