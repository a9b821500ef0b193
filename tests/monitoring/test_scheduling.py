"""cycle_start, cycle_tick and re-probes: which domains go out, in which batches, how often."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from monitoring import cycles, schedule, selectors, store
from monitoring.models import CycleDomain, DomainStatus, OrganizationStatus, ProbeCycle
from partners import access
from partners.models import MailDomain
from tests.monitoring.factories import organization, result

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _probe(cycle_id: int, domain_ids: list[int], at: datetime, **hosts: str) -> None:
    """Store a verified result for each domain, as a worker would."""
    names = dict(MailDomain.objects.filter(pk__in=domain_ids).values_list("pk", "name"))
    store.domain_results_store(
        cycle=ProbeCycle.objects.get(pk=cycle_id),
        results=[
            result(
                names[pk], at=at, hosts=((hosts.get(names[pk], f"mx.{names[pk]}"), "192.0.2.1"),)
            )
            for pk in domain_ids
        ],
        domain_ids=domain_ids,
    )


class TestWindows:
    def test_it_spreads_slots_by_mx_host_and_keeps_them_stable(self, settings) -> None:
        settings.SECMAIL_CYCLE_HOURS = 24
        start = schedule.window_start(NOW)
        assert start == datetime(2026, 11, 20, tzinfo=UTC)
        phases = {schedule.schedule_phase(f"mx{i}.example") for i in range(200)}
        assert len(phases) > 190
        assert all(timedelta(0) <= p < timedelta(hours=24) for p in phases)
        assert schedule.schedule_phase("mx.a.example") == schedule.schedule_phase("mx.a.example")
        due = schedule.next_due(NOW, "mx.a.example")
        assert start + timedelta(hours=24) <= due < start + timedelta(hours=48)


class TestCycleStart:
    def test_it_batches_domains_by_mx_host(self, sent_batches, settings) -> None:
        settings.SECMAIL_BATCH_SIZE = 2
        org = organization("A", "a.example", "b.example", "c.example", "d.example")
        # Last known MX hosts: a and c share one provider, b and d another.
        DomainStatus.objects.bulk_create(
            [
                DomainStatus(
                    domain=d,
                    mx_key="mx.one.example"
                    if d.name in "a.example c.example"
                    else "mx.two.example",
                )
                for d in org.domains.all()
            ]
        )
        cycle = cycles.cycle_start()
        assert cycle.total == 4
        names = dict(MailDomain.objects.values_list("pk", "name"))
        assert [sorted(names[pk] for pk in batch) for _, batch in sent_batches] == [
            ["a.example", "c.example"],
            ["b.example", "d.example"],
        ]
        assert {cycle_id for cycle_id, _ in sent_batches} == {cycle.pk}

    def test_it_leaves_inactive_domains_and_organizations_out(self, sent_batches) -> None:
        organization("A", "a.example", "b.example")
        organization("B", "c.example").__class__.objects.filter(name="B").update(active=False)
        MailDomain.objects.filter(name="b.example").update(active=False)
        cycle = cycles.cycle_start()
        assert cycle.total == 1
        assert [len(batch) for _, batch in sent_batches] == [1]

    def test_it_finishes_an_empty_cycle_at_once(self, sent_batches) -> None:
        cycle = cycles.cycle_start()
        assert cycle.finished is not None
        assert sent_batches == []

    def test_it_reports_progress(self, sent_batches) -> None:
        organization("A", "a.example", "b.example")
        cycle = cycles.cycle_start()
        cycle_id, batch = sent_batches[0]
        _probe(cycle_id, batch[:1], NOW)
        progress = selectors.cycle_progress(cycle_id=cycle.pk)
        assert (progress.done, progress.total, progress.percent) == (1, 2, 50)
        assert progress.finished is None
        _probe(cycle_id, batch[1:], NOW)
        cycles.cycle_finish_if_done(cycle_id=cycle.pk)
        progress = selectors.cycle_progress(cycle_id=cycle.pk)
        assert progress.finished is not None
        assert progress.counts == {"verified": 2}


class TestTick:
    def test_it_sends_new_domains_then_each_at_its_slot(self, sent_batches, settings) -> None:
        settings.SECMAIL_CYCLE_HOURS = 24
        organization("A", "a.example", "b.example")
        report = cycles.cycle_tick(now=NOW)
        assert (report.added, report.enqueued) == (2, 2)
        cycle = ProbeCycle.objects.get(pk=report.cycle_id)
        assert (cycle.trigger, cycle.window_start, cycle.total) == (
            "schedule",
            schedule.window_start(NOW),
            2,
        )
        # Sent once: the next tick neither adds nor resends while the batch is on its way.
        assert cycles.cycle_tick(now=NOW + timedelta(minutes=2)).enqueued == 0
        cycle_id, batch = sent_batches[0]
        _probe(cycle_id, batch, NOW + timedelta(minutes=6))
        assert cycles.cycle_tick(now=NOW + timedelta(minutes=10)).added == 0
        # Each domain is due again at its own slot in the next window, not before.
        due = dict(DomainStatus.objects.values_list("domain__name", "next_due_at"))
        first, second = sorted(due.values())
        tomorrow = schedule.window_start(NOW) + timedelta(hours=24)
        assert tomorrow <= first
        report = cycles.cycle_tick(now=first)
        assert report.added == 1
        assert ProbeCycle.objects.get(pk=report.cycle_id).window_start == tomorrow
        assert cycles.cycle_tick(now=second).added == (0 if first == second else 1)

    def test_it_finishes_a_scheduled_cycle_when_its_window_ends(self, sent_batches) -> None:
        organization("A", "a.example")
        report = cycles.cycle_tick(now=NOW)
        cycle_id, batch = sent_batches[0]
        _probe(cycle_id, batch, NOW + timedelta(minutes=1))
        assert cycles.cycle_tick(now=NOW + timedelta(minutes=5)).finished == 0
        end = schedule.window_start(NOW) + timedelta(hours=24)
        assert cycles.cycle_tick(now=end + timedelta(minutes=1)).finished == 1
        assert ProbeCycle.objects.get(pk=report.cycle_id).counts == {"verified": 1}

    def test_it_resends_a_lost_batch_while_the_rest_of_the_cycle_moves(
        self, sent_batches, settings
    ) -> None:
        settings.SECMAIL_BATCH_SIZE = 2
        assert schedule.stall_after() == timedelta(minutes=3)  # the default
        organization("A", "a.example", "b.example", "c.example", "d.example")
        cycle = cycles.cycle_start()
        sent_at = CycleDomain.objects.values_list("enqueued_at", flat=True).first()
        (_, lost), (cycle_id, alive) = sent_batches
        sent_batches.clear()
        # The worker holding `lost` died; another stores `alive` two minutes later.
        _probe(cycle_id, alive, sent_at + timedelta(minutes=2))
        assert cycles.cycle_tick(now=sent_at + timedelta(minutes=2)).enqueued == 0
        # Silent for longer than the stall time: resent, though the cycle moved a minute ago.
        later = sent_at + timedelta(minutes=3, seconds=30)
        report = cycles.cycle_tick(now=later)
        assert report.enqueued == 2
        assert sent_batches == [(cycle.pk, lost)]
        # Sent again means alive again: the next tick waits another stall period.
        assert cycles.cycle_tick(now=later + timedelta(minutes=1)).enqueued == 0
        _probe(cycle_id, lost + alive, later)  # `alive` is skipped: already stored
        assert CycleDomain.objects.filter(cycle=cycle, processed_at__isnull=True).count() == 0
        assert cycles.cycle_tick(now=later).finished == 1

    def test_it_leaves_a_running_batch_alone_while_it_renews_its_lease(self, sent_batches) -> None:
        organization("A", "a.example")
        cycles.cycle_start()
        [(cycle_id, batch)] = sent_batches
        sent_batches.clear()
        # The batch started long after it was sent (a long queue): it renews on starting.
        CycleDomain.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))
        assert store._lease_renew(cycle_id, batch) == 1
        now = timezone.now()
        assert cycles.cycle_tick(now=now + timedelta(minutes=2)).enqueued == 0
        assert cycles.cycle_tick(now=now + timedelta(minutes=4)).enqueued == 1


@pytest.mark.django_db(transaction=True)
def test_it_renews_a_batch_lease_from_a_thread_while_the_probe_runs() -> None:
    import time

    organization("A", "a.example", "b.example")
    cycle = ProbeCycle.objects.create(started=timezone.now(), total=2)
    ids = list(MailDomain.objects.values_list("pk", flat=True))
    old = timezone.now() - timedelta(hours=1)
    CycleDomain.objects.bulk_create(
        [CycleDomain(cycle=cycle, domain_id=pk, enqueued_at=old) for pk in ids]
    )
    with store._lease(cycle.pk, ids, every=0.05):
        started = set(CycleDomain.objects.values_list("enqueued_at", flat=True))
        assert min(started) > old
        time.sleep(0.5)
        renewed = set(CycleDomain.objects.values_list("enqueued_at", flat=True))
        assert min(renewed) > max(started)
    after = set(CycleDomain.objects.values_list("enqueued_at", flat=True))
    time.sleep(0.2)
    # Stopped with the batch.
    assert set(CycleDomain.objects.values_list("enqueued_at", flat=True)) == after


class TestReprobe:
    def test_it_limits_reprobes_to_one_per_five_minutes(self, sent_batches, personas) -> None:
        org = personas.alices_org
        first = cycles.organization_reprobe(organization=org, requested_by=personas.alice)
        assert (first.trigger, first.total, first.organization) == ("single", 1, org)
        with pytest.raises(cycles.ReprobeTooSoon) as excinfo:
            cycles.organization_reprobe(organization=org, requested_by=personas.staff)
        assert timedelta(minutes=4) < excinfo.value.retry_after <= timedelta(minutes=5)
        # Another organization has its own limit.
        cycles.organization_reprobe(organization=personas.charlies_org)
        OrganizationStatus.objects.filter(pk=org.pk).update(
            last_manual_probe_at=first.started - timedelta(minutes=5)
        )
        cycles.organization_reprobe(organization=org)
        assert len(sent_batches) == 3

    def test_it_lets_staff_and_admins_reprobe(self, personas) -> None:
        org = personas.alices_org
        assert access.can_reprobe(user=personas.alice, organization=org)
        assert access.can_reprobe(user=personas.staff, organization=org)
        assert not access.can_reprobe(user=personas.bob, organization=org)
        assert not access.can_reprobe(user=personas.charlie, organization=org)


def test_it_prunes_old_observations_but_keeps_history(sent_batches, settings) -> None:
    from monitoring.models import Certificate, HostObservation, StatusChange

    organization("A", "a.example")
    cycle = cycles.cycle_start()
    _probe(cycle.pk, sent_batches[0][1], NOW - timedelta(days=100))
    cycles.cycle_finish_if_done(cycle_id=cycle.pk, now=NOW - timedelta(days=100))
    cycle2 = cycles.cycle_start()
    _probe(cycle2.pk, sent_batches[1][1], NOW - timedelta(days=1))
    assert HostObservation.objects.count() == 2
    assert store.observations_prune(now=NOW, keep_days=90) == 1
    assert list(HostObservation.objects.values_list("cycle", flat=True)) == [cycle2.pk]
    assert StatusChange.objects.count() == 1
    assert Certificate.objects.count() == 1
    assert not CycleDomain.objects.filter(cycle=cycle).exists()
