"""Probe cycles: start, re-probe one organization, the beat's tick, send batches, finish."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from monitoring.models import CycleDomain, DomainStatus, OrganizationStatus, ProbeCycle
from monitoring.mx_lookup import mx_hosts
from monitoring.probe_config import probe_config
from monitoring.schedule import batch_size, cycle_period, stall_after, window_start
from partners.models import MailDomain, Organization

logger = logging.getLogger(__name__)

# A person may ask for a re-probe of one organization this often.
REPROBE_INTERVAL = timedelta(minutes=5)
# A group of domains sharing MX hosts stays in one batch up to this many batches' worth.
GROUP_LIMIT = 5
# By name, not by import: the tasks module calls this one, so importing it here would be a cycle.
PROBE_BATCH_TASK = "monitoring.tasks.probe_batch"


class ReprobeTooSoon(Exception):
    """An organization was re-probed less than REPROBE_INTERVAL ago."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"re-probed recently; try again in {int(retry_after.total_seconds())} s")
        self.retry_after = retry_after


def _monitored_domains() -> Iterable[MailDomain]:
    return MailDomain.objects.filter(active=True, organization__active=True)


def ensure_statuses(domain_ids: Iterable[int]) -> None:
    DomainStatus.objects.bulk_create(
        [DomainStatus(domain_id=pk) for pk in domain_ids], ignore_conflicts=True, batch_size=2000
    )


def cycle_start(
    *,
    trigger: str = ProbeCycle.Trigger.MANUAL,
    organization: Organization | None = None,
    domain_ids: Sequence[int] | None = None,
    requested_by: object | None = None,
    size: int | None = None,
) -> ProbeCycle:
    """Start a cycle now over every monitored domain (or one organization's, or given ids).

    The batches go to the broker once the transaction commits.
    """
    domains = _monitored_domains()
    if organization is not None:
        domains = domains.filter(organization=organization)
    if domain_ids is not None:
        domains = MailDomain.objects.filter(pk__in=domain_ids)
    now = timezone.now()
    with transaction.atomic():
        ids = list(domains.values_list("pk", flat=True))
        ensure_statuses(ids)
        cycle = ProbeCycle.objects.create(
            trigger=trigger,
            organization=organization,
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
            started=now,
            total=len(ids),
        )
        CycleDomain.objects.bulk_create(
            [CycleDomain(cycle=cycle, domain_id=pk, enqueued_at=now) for pk in ids],
            batch_size=2000,
        )
        if not ids:
            cycle.finished = now
            cycle.save(update_fields=["finished"])
        _enqueue(cycle.pk, ids, size=size)
    return cycle


def organization_reprobe(
    *, organization: Organization, requested_by: object | None = None
) -> ProbeCycle:
    """Re-probe one organization now, at most once per REPROBE_INTERVAL (raises ReprobeTooSoon).

    Who may ask is the caller's check (staff or an admin of the organization, see
    access.can_reprobe); the limit holds whoever asks, across web processes.
    """
    now = timezone.now()
    OrganizationStatus.objects.bulk_create(
        [OrganizationStatus(organization=organization)], ignore_conflicts=True
    )
    claimed = (
        OrganizationStatus.objects.filter(pk=organization.pk)
        .filter(
            Q(last_manual_probe_at__isnull=True)
            | Q(last_manual_probe_at__lte=now - REPROBE_INTERVAL)
        )
        .update(last_manual_probe_at=now)
    )
    if not claimed:
        last = OrganizationStatus.objects.values_list("last_manual_probe_at", flat=True).get(
            pk=organization.pk
        )
        raise ReprobeTooSoon(max(timedelta(0), last + REPROBE_INTERVAL - now))
    return cycle_start(
        trigger=ProbeCycle.Trigger.SINGLE, organization=organization, requested_by=requested_by
    )


@dataclass(frozen=True, slots=True)
class TickReport:
    cycle_id: int | None
    added: int
    enqueued: int
    finished: int


def cycle_tick(*, now: datetime | None = None, stale_after: timedelta | None = None) -> TickReport:
    """The beat's heartbeat: add due domains to this window's cycle, send what waits, finish.

    Due: never checked, or `next_due_at` passed (its slot in this window came). An entry sent
    to the workers that shows no sign of life for `stale_after` (its batch's worker died, or
    the broker lost it) is sent again, whatever the rest of its cycle does; batches are
    idempotent, so a resend costs probing time but never doubles anything.
    """
    now = now or timezone.now()
    period = cycle_period()
    stale_after = stall_after() if stale_after is None else stale_after
    start = window_start(now, period)
    cycle_id = None
    added = 0
    with transaction.atomic():
        pending = CycleDomain.objects.filter(
            processed_at__isnull=True, cycle__finished__isnull=True
        ).values("domain_id")
        due = (
            _monitored_domains()
            .filter(
                Q(status__isnull=True)
                | Q(status__next_due_at__isnull=True)
                | Q(status__next_due_at__lte=now)
            )
            .exclude(pk__in=pending)
        )
        cycle = ProbeCycle.objects.filter(
            trigger=ProbeCycle.Trigger.SCHEDULE, window_start=start
        ).first()
        if cycle is not None:
            due = due.exclude(pk__in=cycle.entries.values("domain_id"))
        due_ids = list(due.values_list("pk", flat=True))
        if due_ids:
            if cycle is None:
                cycle, _ = ProbeCycle.objects.get_or_create(
                    trigger=ProbeCycle.Trigger.SCHEDULE,
                    window_start=start,
                    defaults={"started": now},
                )
            ensure_statuses(due_ids)
            CycleDomain.objects.bulk_create(
                [CycleDomain(cycle=cycle, domain_id=pk) for pk in due_ids],
                ignore_conflicts=True,
                batch_size=2000,
            )
            ProbeCycle.objects.filter(pk=cycle.pk).update(
                total=CycleDomain.objects.filter(cycle=cycle).count()
            )
            added = len(due_ids)
        if cycle is not None:
            cycle_id = cycle.pk
        enqueued = _release(now=now, stale_after=stale_after)
    finished = 0
    for open_id in ProbeCycle.objects.filter(finished__isnull=True).values_list("pk", flat=True):
        finished += cycle_finish_if_done(cycle_id=open_id, now=now)
    return TickReport(cycle_id=cycle_id, added=added, enqueued=enqueued, finished=finished)


def _release(*, now: datetime, stale_after: timedelta) -> int:
    """Send entries never sent, and entries silent for `stale_after`, claiming them as they go.

    `enqueued_at` is the entry's last sign of life: set when sent, set again when a batch
    starts on it and renewed while the batch runs (store.cycle_batch_run).
    """
    waiting = (
        CycleDomain.objects.filter(processed_at__isnull=True, cycle__finished__isnull=True)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - stale_after))
        # skip_locked: a tick running alongside another (or a batch storing) skips its rows.
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "cycle_id", "domain_id", "enqueued_at")
    )
    rows = list(waiting)
    if not rows:
        return 0
    CycleDomain.objects.filter(pk__in=[row[0] for row in rows]).update(enqueued_at=now)
    by_cycle: dict[int, list[int]] = {}
    for _, cycle_id, domain_id, _ in rows:
        by_cycle.setdefault(cycle_id, []).append(domain_id)
    for cycle_id, domain_ids in by_cycle.items():
        _enqueue(cycle_id, domain_ids)
    resent = sum(1 for row in rows if row[3] is not None)
    logger.info(
        "cycle tick: sent %d domain(s) in %d cycle(s), %d of them again (silent for %s)",
        len(rows),
        len(by_cycle),
        resent,
        stale_after,
    )
    return len(rows)


def batches_by_mx(domain_ids: Sequence[int], size: int | None = None) -> list[list[int]]:
    """Split domains into batches so that domains sharing an MX host share a batch.

    The probe talks to each (MX host, address) once per batch, so a host split over two
    batches is probed twice. Hosts come from each domain's last result; domains never probed
    are asked for their MX hosts first (only when there is more than one batch to form).
    Domains linked by a shared host stay together up to GROUP_LIMIT batches' worth; a larger
    group (one provider hosting thousands) is split, each part probing that host once.
    """
    size = size or batch_size()
    rows = list(
        MailDomain.objects.filter(pk__in=domain_ids).values_list(
            "pk", "name", "status__mx", "status__mx_key"
        )
    )
    hosts: dict[int, tuple[str, ...]] = {}
    for pk, _, known, key in rows:
        found = tuple(str(mx["host"]) for mx in known or () if mx.get("host"))
        hosts[pk] = found or ((key,) if key else ())
    new = [(pk, name) for pk, name, _, _ in rows if not hosts[pk]]
    if new and len(rows) > size:
        looked_up = mx_hosts([name for _, name in new], probe_config())
        for pk, name in new:
            hosts[pk] = looked_up.get(name.lower().rstrip("."), ())
    return _pack(rows, hosts, size)


def _pack(
    rows: list[tuple[int, str, object, object]], hosts: dict[int, tuple[str, ...]], size: int
) -> list[list[int]]:
    # Union-find over domains, joined through the MX hosts they share.
    parent = {pk: pk for pk, *_ in rows}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    owner: dict[str, int] = {}
    for pk, *_ in rows:
        for host in hosts.get(pk, ()):
            if host in owner:
                parent[root(pk)] = root(owner[host])
            else:
                owner[host] = pk
    names = {pk: name for pk, name, *_ in rows}
    groups: dict[int, list[int]] = {}
    for pk in sorted(names, key=lambda pk: (min(hosts.get(pk) or ("~",)), names[pk])):
        groups.setdefault(root(pk), []).append(pk)
    batches: list[list[int]] = []
    current: list[int] = []
    for group in sorted(groups.values(), key=len, reverse=True):
        for part in range(0, len(group), GROUP_LIMIT * size):
            members = group[part : part + GROUP_LIMIT * size]
            if len(members) > size:
                batches.append(members)  # a shared host's domains, whole
                continue
            if len(current) + len(members) > size:
                batches.append(current)
                current = []
            current.extend(members)
    if current:
        batches.append(current)
    return batches


def _enqueue(cycle_id: int, domain_ids: Sequence[int], *, size: int | None = None) -> None:
    """Send the domains' batches once the transaction commits.

    Planning the batches may ask DNS for new domains' MX hosts (seconds on a first cycle), so
    it runs after the commit: never while the tick holds its cycle's row and entries' locks,
    which the workers storing results wait for.
    """
    if not domain_ids:
        return

    def send() -> None:
        # Registered in every process by MonitoringConfig.ready().
        task = current_app.tasks[PROBE_BATCH_TASK]
        for batch in batches_by_mx(domain_ids, size):
            task.delay(cycle_id, batch)

    transaction.on_commit(send)


def probe_queue() -> str:
    """The queue probe batches are routed to (CELERY_TASK_ROUTES)."""
    return current_app.amqp.router.route({}, PROBE_BATCH_TASK)["queue"].name


def probe_consumers(*, timeout: float = 2.0) -> list[str] | None:
    """The workers consuming the probe queue right now; None when the broker cannot be asked.

    Asks every worker over the broker's broadcast channel; one that does not answer within
    `timeout` (busy parent, network) counts as absent, so treat an empty list as "probably none".
    """
    queue = probe_queue()
    try:
        replies = current_app.control.inspect(timeout=timeout).active_queues() or {}
    except (BrokerError, OSError) as exc:
        logger.warning("cannot ask the workers which queues they consume: %s", exc)
        return None
    return sorted(
        worker
        for worker, queues in replies.items()
        if any(q.get("name") == queue for q in queues or ())
    )


def cycle_finish_if_done(*, cycle_id: int, now: datetime | None = None) -> int:
    """Mark the cycle finished (with counts per level) once no entry waits; 1 if this call did.

    Run after the batch's transaction commits, so the last of two concurrent batches sees
    both; the conditional UPDATE lets only one caller finish it. A scheduled cycle stays open
    until its window ends, since the beat adds domains all through the window.
    """
    now = now or timezone.now()
    cycle = ProbeCycle.objects.filter(pk=cycle_id, finished__isnull=True).first()
    if cycle is None:
        return 0
    scheduled = cycle.trigger == ProbeCycle.Trigger.SCHEDULE and cycle.window_start is not None
    if scheduled and now < cycle.window_start + cycle_period():
        return 0
    entries = CycleDomain.objects.filter(cycle_id=cycle_id)
    if entries.filter(processed_at__isnull=True).exists():
        return 0
    counts = dict(
        entries.values("level").annotate(n=Count("pk")).values_list("level", "n").order_by()
    )
    return ProbeCycle.objects.filter(pk=cycle_id, finished__isnull=True).update(
        finished=now, counts=counts
    )
