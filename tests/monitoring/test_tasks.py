"""The Celery side: task registration, queues, beat entries, and the thin tasks themselves."""

from __future__ import annotations

import pytest

from monitoring import cycles, store, tasks
from monitoring.models import DomainStatus, ProbeCycle
from secmail.celery import app
from tests.monitoring.factories import organization, result


def test_it_schedules_the_tick_and_the_upkeep() -> None:
    schedule = app.conf.beat_schedule
    assert schedule["monitoring-cycle-tick"]["task"] == "monitoring.tasks.cycle_tick"
    assert schedule["monitoring-daily-upkeep"]["task"] == "monitoring.tasks.daily_upkeep"
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_it_declares_every_queue_so_a_plain_worker_consumes_them_all() -> None:
    assert {queue.name for queue in app.conf.task_queues} == {"default", "probe"}


def test_it_ticks_every_minute_within_the_redis_visibility_timeout(settings) -> None:
    assert app.conf.beat_schedule["monitoring-cycle-tick"]["schedule"].total_seconds() == 60
    # Redis gives an unacknowledged task to another worker only after the longest task's
    # time limit, so a slow task is not run twice.
    if str(app.conf.broker_url).startswith("redis"):
        visibility = app.conf.broker_transport_options["visibility_timeout"]
        assert visibility > app.conf.task_time_limit > tasks.probe_batch.time_limit


def test_it_routes_probing_to_the_probe_queue_and_the_rest_to_default() -> None:
    router = app.amqp.router
    assert router.route({}, "monitoring.tasks.probe_batch")["queue"].name == "probe"
    assert router.route({}, "monitoring.tasks.cycle_tick")["queue"].name == "default"
    assert router.route({}, "monitoring.tasks.daily_upkeep")["queue"].name == "default"


def test_it_owns_limits_and_late_acks() -> None:
    probe = app.tasks["monitoring.tasks.probe_batch"]
    assert probe.acks_late is True
    # A batch whose pool process dies goes back to the broker rather than being dropped.
    assert probe.reject_on_worker_lost is True
    assert app.conf.task_reject_on_worker_lost is True
    assert probe.soft_time_limit < probe.time_limit
    # The probe's own deadline comes first, so a slow batch is stored, not killed.
    assert probe.soft_time_limit > tasks.PROBE_BATCH_DEADLINE
    assert app.conf.worker_prefetch_multiplier == 1


@pytest.mark.django_db
def test_it_runs_a_batch(sent_batches, monkeypatch) -> None:
    monkeypatch.setattr(
        store, "probe_domains", lambda names, config: [result(name) for name in names]
    )
    organization("A", "a.example", "b.example")
    cycle = cycles.cycle_start()
    [(cycle_id, batch)] = sent_batches
    outcome = tasks.probe_batch.apply(args=(cycle_id, batch)).get()
    assert outcome == {"stored": 2, "skipped": 0, "changes": 2}
    assert tasks.probe_batch.apply(args=(cycle_id, batch)).get()["skipped"] == 2
    assert ProbeCycle.objects.get(pk=cycle.pk).finished is not None
    assert set(DomainStatus.objects.values_list("level", flat=True)) == {"verified"}


@pytest.mark.django_db
def test_it_ticks_and_keeps_up(sent_batches) -> None:
    organization("A", "a.example")
    report = tasks.cycle_tick.apply(kwargs={"stale_after_seconds": 60}).get()
    assert report["added"] == report["enqueued"] == 1
    assert tasks.daily_upkeep.apply().get() == {
        "observations_pruned": 0,
        "organizations_moved": 0,
    }
