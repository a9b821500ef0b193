"""Django app configuration of notifications; it listens to the pipeline's batch_stored signal."""

from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "monitoring.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Importing tasks registers them in every process, so services enqueue them by name.
        from monitoring.notifications import alerts, tasks  # noqa: F401
        from monitoring.signals import batch_stored

        batch_stored.connect(alerts.on_batch_stored, dispatch_uid="notifications-alerts")
