"""Celery tasks of the evidence room: ids in, one service call, retries and limits here."""

from __future__ import annotations

from celery import shared_task

from monitoring.evidence import services
from secmail.celery import DB_RETRY


@shared_task(
    name="monitoring.evidence.tasks.outbound_refresh",
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
    **DB_RETRY,
)
def outbound_refresh() -> int:
    """Daily from beat: gateways leave the 30-day window without a new message arriving; then
    the day's coverage snapshot for the overview's trend."""
    changed = services.outbound_refresh()
    services.outbound_coverage_record()
    return changed
