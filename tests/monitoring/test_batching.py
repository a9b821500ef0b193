"""A first cycle groups new domains by MX host: one SMTP session per (host, address) per cycle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring import cycles, store, tasks
from monitoring.models import DomainStatus, ProbeCycle
from monitoring.notifications import tasks as notification_tasks
from tests.lab import LabHandle, bulk_world, start_lab
from tests.monitoring.factories import organization

# Seven shared MX hosts, one address each, nine or so domains per host, batches of ten: before
# grouping by host, new domains were batched by name and each batch met most of the hosts.
DOMAINS = 60
HOSTS = 7
BATCH = 10


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    world = bulk_world(DOMAINS, distinct_mx_hosts=False, n_shared_hosts=HOSTS, n_addresses=HOSTS)
    handle = start_lab(world, Path(tmp_path_factory.mktemp("batching-lab")))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def inline_lab_worker(shared_lab: LabHandle, settings, monkeypatch) -> list[list[int]]:
    """Batches run in this process as they are sent, probing the lab with the real probe."""
    from django.db import transaction

    settings.SECMAIL_DNS_RESOLVERS = shared_lab.resolver
    settings.SECMAIL_CA_BUNDLE = shared_lab.ca_bundle
    settings.SECMAIL_SMTP_PORT = shared_lab.smtp_port
    settings.SECMAIL_MTA_STS_PORT = shared_lab.https_port
    settings.SECMAIL_EHLO_NAME = "batching.secmail.test"
    settings.SECMAIL_CONNECT_TIMEOUT = 2
    settings.SECMAIL_PROBE_TIMEOUT = 5
    sent: list[list[int]] = []

    def delay(cycle_id: int, domain_ids: list[int]) -> None:
        sent.append(list(domain_ids))
        store.cycle_batch_run(cycle_id=cycle_id, domain_ids=domain_ids)

    monkeypatch.setattr(tasks.probe_batch, "delay", delay)
    # Alerts after each stored batch are another room's business: not sent from here.
    monkeypatch.setattr(notification_tasks.alerts_after_batch, "delay", lambda *args: None)
    monkeypatch.setattr(transaction, "on_commit", lambda func, *args, **kwargs: func())
    return sent


def _smtp_sessions(lab: LabHandle) -> int:
    stats = lab.client().stats()
    return sum(
        server["connections"]
        for name, server in stats["servers"].items()
        if name.startswith("shared-")
    )


@pytest.mark.django_db
def test_it_opens_one_session_per_host_and_address_on_a_first_cycle(
    shared_lab: LabHandle, inline_lab_worker: list[list[int]]
) -> None:
    organization("Shared", *(f"d{i}.bulk.lab.test" for i in range(DOMAINS)))
    shared_lab.client().reset_stats()
    cycle = cycles.cycle_start(size=BATCH)

    cycle = ProbeCycle.objects.get(pk=cycle.pk)
    assert cycle.done == cycle.total == DOMAINS
    assert cycle.counts == {"verified": DOMAINS}
    assert len(inline_lab_worker) >= DOMAINS // BATCH
    pairs = {
        (mx["host"], ip)
        for mx_list in DomainStatus.objects.values_list("mx", flat=True)
        for mx in mx_list
        for ip in mx["addresses"]
    }
    assert len(pairs) == HOSTS
    assert _smtp_sessions(shared_lab) == len(pairs)
    # Every domain of a host in the same batch.
    host_of = dict(DomainStatus.objects.values_list("domain_id", "mx_key"))
    for batch in inline_lab_worker:
        for host in {host_of[pk] for pk in batch}:
            assert sum(1 for b in inline_lab_worker if host in {host_of[pk] for pk in b}) == 1


@pytest.mark.django_db(transaction=True)
def test_it_plans_batches_after_the_commit_not_under_the_ticks_locks(monkeypatch) -> None:
    from django.db import connection

    from partners.models import MailDomain

    organization("Planned", "a.plan.example", "b.plan.example")
    planned_in_transaction: list[bool] = []
    plan = cycles.batches_by_mx

    def spy(domain_ids, size=None):  # noqa: ANN001, ANN202
        planned_in_transaction.append(connection.in_atomic_block)
        return plan(domain_ids, size)

    monkeypatch.setattr(cycles, "batches_by_mx", spy)
    sent: list[int] = []
    monkeypatch.setattr(tasks.probe_batch, "delay", lambda cycle_id, ids: sent.extend(ids))
    cycles.cycle_tick()
    assert planned_in_transaction == [False]
    assert sorted(sent) == sorted(MailDomain.objects.values_list("pk", flat=True))
