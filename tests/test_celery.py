"""Tests for the Celery app: configured from settings, a broker that needs no server, beat."""

from __future__ import annotations

import os

from django.conf import settings

from secmail.celery import app, heartbeat


def test_it_uses_redis_when_configured_and_the_filesystem_otherwise() -> None:
    if os.environ.get("REDIS_URL"):
        assert app.conf.broker_url == os.environ["REDIS_URL"]
    else:
        assert app.conf.broker_url == "filesystem://"
        assert app.conf.result_backend.startswith("file://")
        assert app.conf.broker_transport_options["data_folder_in"].startswith(str(settings.VAR_DIR))


def test_it_schedules_the_heartbeat() -> None:
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] in app.tasks


def test_it_runs_the_heartbeat_task() -> None:
    assert heartbeat.apply().get() == "ok"


def test_it_sends_probe_tasks_to_the_probe_queue() -> None:
    assert app.conf.task_routes["monitoring.tasks.probe_*"] == {"queue": "probe"}
    assert app.conf.task_default_queue == "default"
