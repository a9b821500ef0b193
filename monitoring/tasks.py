"""Celery tasks of the monitoring pipeline: ids in, one service call, retries and limits here."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from monitoring import cycles, store
from monitoring.probe_config import probe_config
from secmail.celery import DB_RETRY

# The probe library stops a batch on its own deadline (slow addresses become `unreachable`)
# before Celery's soft limit, so a slow batch is stored rather than lost.
PROBE_BATCH_DEADLINE = 540
PROBE_SOFT_LIMIT = 600
PROBE_HARD_LIMIT = 660


# Routed to the `probe` queue by name (CELERY_TASK_ROUTES "monitoring.tasks.probe_*").
# The probe and the storing run in one task: a batch's results (certificate chains included)
# would otherwise travel through Redis to a second task for nothing, and storing is a few
# bulk statements. acks_late with reject_on_worker_lost: a batch whose pool process dies is
# given back to the broker at once. When the whole worker dies, nobody is left to give it
# back; its domains stop renewing their lease and the beat's tick resends them within
# SECMAIL_STALL_MINUTES plus one tick. Storing is idempotent per (cycle, domain), so a
# redelivered or duplicated batch adds nothing twice.
@shared_task(
    name="monitoring.tasks.probe_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=PROBE_SOFT_LIMIT,
    time_limit=PROBE_HARD_LIMIT,
    **DB_RETRY,
    ignore_result=True,
)
def probe_batch(cycle_id: int, domain_ids: list[int]) -> dict[str, int]:
    outcome = store.cycle_batch_run(
        cycle_id=cycle_id,
        domain_ids=domain_ids,
        config=probe_config(batch_timeout=PROBE_BATCH_DEADLINE),
    )
    return {"stored": outcome.stored, "skipped": outcome.skipped, "changes": outcome.changes}


@shared_task(
    name="monitoring.tasks.cycle_tick",
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
    ignore_result=True,
)
def cycle_tick(stale_after_seconds: float | None = None) -> dict[str, int | None]:
    """Every minute from beat: schedule due domains, resend silent ones, finish cycles."""
    stale_after = (
        timedelta(seconds=stale_after_seconds) if stale_after_seconds is not None else None
    )
    report = cycles.cycle_tick(stale_after=stale_after)
    return {
        "cycle": report.cycle_id,
        "added": report.added,
        "enqueued": report.enqueued,
        "finished": report.finished,
    }


@shared_task(
    name="monitoring.tasks.daily_upkeep",
    acks_late=True,
    soft_time_limit=1200,
    time_limit=1500,
    ignore_result=True,
)
def daily_upkeep() -> dict[str, int]:
    """Prune old observations; recompute every organization's level (catches domain edits)."""
    return {
        "observations_pruned": store.observations_prune(),
        "organizations_moved": store.organization_levels_refresh(),
    }
