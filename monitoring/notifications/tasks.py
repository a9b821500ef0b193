"""Celery tasks of digests and alerts: ids in, one service call, retries and limits here."""

from __future__ import annotations

from celery import shared_task

from monitoring.notifications import alerts, digests, outbox
from secmail.celery import DB_RETRY


# SMTP failures are not retried here: the outbox keeps the message and its own backoff, so a
# relay that is down for a day loses nothing and a run never waits on one message.
@shared_task(
    name="monitoring.notifications.tasks.outbox_send",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
    **DB_RETRY,
)
def outbox_send() -> dict[str, int]:
    """Every minute from beat, and whenever messages are queued: send what is due."""
    report = outbox.outbox_send_due()
    return {"sent": report.sent, "failed": report.failed, "requeued": report.requeued}


@shared_task(
    name="monitoring.notifications.tasks.alerts_after_batch",
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
    ignore_result=True,
    **DB_RETRY,
)
def alerts_after_batch(cycle_id: int, domain_ids: list[int]) -> int:
    return alerts.alerts_after_batch(cycle_id=cycle_id, domain_ids=domain_ids)


@shared_task(
    name="monitoring.notifications.tasks.digests_enqueue",
    acks_late=True,
    soft_time_limit=1200,
    time_limit=1500,
    ignore_result=True,
    **DB_RETRY,
)
def digests_enqueue() -> dict[str, int]:
    """Daily from beat: queue today's digests (weekly ones on Mondays), each once per period."""
    run, _ = digests.digests_enqueue()
    return {"queued": run.queued, "quiet": run.skipped_quiet, "already": run.already}


@shared_task(
    name="monitoring.notifications.tasks.staff_digest_enqueue",
    acks_late=True,
    soft_time_limit=600,
    time_limit=900,
    ignore_result=True,
    **DB_RETRY,
)
def staff_digest_enqueue() -> int:
    """Weekly from beat: the rollout digest to industry staff, once per week."""
    return digests.staff_digest_enqueue()
