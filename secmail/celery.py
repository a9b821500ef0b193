"""The Celery application: configuration from Django settings, task discovery, beat schedule."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secmail.settings")

app = Celery("secmail")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds `tasks` in every installed app: the pipeline's and the notifications' rooms.
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# Retries every task that talks to the database shares: lost connections, deadlocks, a
# restarting database are worth another go; other database errors would fail the same way
# again (the services give up on what they cannot store themselves).
DB_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "max_retries": 5,
}

# Periodic work. Other apps add their entries here so the whole schedule reads in one place.
app.conf.beat_schedule = {
    "heartbeat": {"task": "secmail.celery.heartbeat", "schedule": timedelta(minutes=5)},
    # Monitoring: each tick sends the domains whose slot in the SECMAIL_CYCLE_HOURS window has
    # come (spread by MX host), resends domains whose batch went silent (a dead worker), and
    # closes finished cycles. Every minute: a lost batch is resent within SECMAIL_STALL_MINUTES
    # plus one minute; an idle tick is two indexed queries.
    "monitoring-cycle-tick": {
        "task": "monitoring.tasks.cycle_tick",
        "schedule": timedelta(minutes=1),
        # A tick that waited longer than the next one is pointless.
        "options": {"expires": 50},
    },
    # Retention of observations, and a recount of every organization's level.
    "monitoring-daily-upkeep": {
        "task": "monitoring.tasks.daily_upkeep",
        "schedule": crontab(hour=3, minute=17),
    },
    # Evidence from real mail: outbound verdicts age out of their 30-day window.
    "evidence-outbound-refresh": {
        "task": "monitoring.evidence.tasks.outbound_refresh",
        "schedule": crontab(hour=3, minute=41),
    },
    # Digests and alerts: the outbox is drained every minute (retries wait for their backoff);
    # digests are queued each morning, weekly ones on Mondays, each once per period.
    "notifications-outbox-send": {
        "task": "monitoring.notifications.tasks.outbox_send",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "notifications-digests": {
        "task": "monitoring.notifications.tasks.digests_enqueue",
        "schedule": crontab(hour=7, minute=5),
    },
    "notifications-staff-digest": {
        "task": "monitoring.notifications.tasks.staff_digest_enqueue",
        "schedule": crontab(hour=7, minute=15, day_of_week="mon"),
    },
}


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    # kombu's filesystem transport and Celery's file:// result backend expect their folders
    # to exist already.
    options = sender.conf.broker_transport_options or {}
    folders = [options[key] for key in ("data_folder_in", "data_folder_out") if key in options]
    backend = str(sender.conf.result_backend or "")
    if backend.startswith("file://"):
        folders.append(backend.removeprefix("file://"))
    for folder in folders:
        Path(folder).mkdir(parents=True, exist_ok=True)


@app.task(name="secmail.celery.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Proves that beat, the broker and a worker are connected; shows in the worker log."""
    logger.info("heartbeat: beat -> broker -> worker is working")
    return "ok"
