"""domain_results_store: statuses, changes, certificates, observations, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring import cycles, store
from monitoring.models import (
    Certificate,
    CycleDomain,
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    ProbeCycle,
    StatusChange,
)
from monitoring.probe import Level
from tests.monitoring.factories import T0, certificate, organization, result

pytestmark = pytest.mark.django_db


def _cycle(*domains: object) -> ProbeCycle:
    cycle = ProbeCycle.objects.create(trigger="manual", total=len(domains))
    CycleDomain.objects.bulk_create([CycleDomain(cycle=cycle, domain=d) for d in domains])
    return cycle


@pytest.fixture
def org():  # noqa: ANN201
    return organization("Alpha Brokers", "alpha.example", "alpha-mail.example")


def test_it_stores_statuses_and_first_changes(org) -> None:
    one, two = org.domains.order_by("name")
    cycle = _cycle(one, two)
    outcome = store.domain_results_store(
        cycle=cycle,
        results=[result("alpha-mail.example", "encrypted"), result("alpha.example")],
    )
    assert outcome.stored == 2
    status = DomainStatus.objects.get(domain=one)
    assert status.level == "encrypted"
    assert status.since == status.checked_at == T0
    assert status.mx[0]["host"] == "mx.alpha-mail.example"
    assert status.mx_key == "mx.alpha-mail.example"
    assert status.next_due_at > T0
    change = StatusChange.objects.get(domain=one)
    assert (change.from_level, change.to_level) == ("", "encrypted")
    assert change.warnings_added == ["no-downgrade-protection"]
    assert OrganizationStatus.objects.get(organization=org).level == "encrypted"
    cycle.refresh_from_db()
    assert cycle.done == 2


def test_it_stores_a_batch_once_however_often_it_runs(org) -> None:
    cycle = _cycle(*org.domains.all())
    results = [result("alpha.example"), result("alpha-mail.example")]
    store.domain_results_store(cycle=cycle, results=results)
    again = store.domain_results_store(cycle=cycle, results=results)
    assert (again.stored, again.skipped) == (0, 2)
    assert StatusChange.objects.count() == 2
    assert HostObservation.objects.count() == 2
    cycle.refresh_from_db()
    assert cycle.done == 2


def test_it_writes_no_change_when_nothing_changed(org) -> None:
    first = _cycle(*org.domains.all())
    store.domain_results_store(
        cycle=first, results=[result("alpha.example"), result("alpha-mail.example")]
    )
    later = T0 + timedelta(days=1)
    second = _cycle(*org.domains.all())
    store.domain_results_store(
        cycle=second,
        results=[result("alpha.example", at=later), result("alpha-mail.example", at=later)],
    )
    assert StatusChange.objects.count() == 2
    status = DomainStatus.objects.get(domain__name="alpha.example")
    assert status.checked_at == later
    assert status.since == T0
    assert status.cycle == second
    assert HostObservation.objects.filter(cycle=second).count() == 2


def test_it_records_level_and_warning_changes(org) -> None:
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()),
        results=[result("alpha.example"), result("alpha-mail.example")],
    )
    later = T0 + timedelta(days=1)
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()),
        results=[
            result("alpha.example", "plaintext", at=later),
            result(
                "alpha-mail.example",
                at=later,
                warnings=("cert-expiring", "no-downgrade-protection"),
            ),
        ],
    )
    level_change = StatusChange.objects.get(domain__name="alpha.example", at=later)
    assert (level_change.from_level, level_change.to_level) == ("verified", "plaintext")
    warning_change = StatusChange.objects.get(domain__name="alpha-mail.example", at=later)
    assert warning_change.from_level == warning_change.to_level == "verified"
    assert warning_change.warnings_added == ["cert-expiring"]
    assert DomainStatus.objects.get(domain__name="alpha.example").since == later
    assert DomainStatus.objects.get(domain__name="alpha-mail.example").since == T0
    org_status = OrganizationStatus.objects.get(organization=org)
    assert org_status.level == "plaintext"


def test_it_stores_a_certificate_once(org) -> None:
    shared = certificate("mx.provider.example", sha="ab" * 32)
    cycle = _cycle(*org.domains.all())
    store.domain_results_store(
        cycle=cycle,
        results=[
            result("alpha.example", hosts=(("mx1.provider.example", "192.0.2.1"),), cert=shared),
            result(
                "alpha-mail.example", hosts=(("mx2.provider.example", "192.0.2.1"),), cert=shared
            ),
        ],
    )
    later = T0 + timedelta(days=1)
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()),
        results=[result("alpha.example", at=later, cert=shared)],
    )
    assert Certificate.objects.count() == 1
    stored = Certificate.objects.get()
    assert stored.sha256 == "ab" * 32
    assert stored.san == ["mx.provider.example"]
    assert stored.der == b"leaf-der"
    assert HostObservation.objects.filter(certificate=stored).count() == 3


def test_it_shares_an_observation_between_domains_of_one_host(org) -> None:
    host = (("mx.provider.example", "192.0.2.7"),)
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()),
        results=[
            result("alpha.example", hosts=host),
            result("alpha-mail.example", hosts=host),
        ],
    )
    observation = HostObservation.objects.get()
    assert (observation.host, observation.ip, observation.tls_version) == (
        "mx.provider.example",
        "192.0.2.7",
        "TLSv1.3",
    )


def test_it_ignores_a_result_older_than_the_stored_one(org) -> None:
    later = T0 + timedelta(days=1)
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()), results=[result("alpha.example", at=later)]
    )
    late = _cycle(*org.domains.all())
    outcome = store.domain_results_store(
        cycle=late, results=[result("alpha.example", "plaintext", at=T0)]
    )
    assert outcome.stored == 1
    assert DomainStatus.objects.get(domain__name="alpha.example").level == "verified"
    assert StatusChange.objects.count() == 1
    assert CycleDomain.objects.get(cycle=late, domain__name="alpha.example").processed_at


def test_it_leaves_no_mail_domains_out_of_the_organization_level(org) -> None:
    store.domain_results_store(
        cycle=_cycle(*org.domains.all()),
        results=[result("alpha.example", "partial"), result("alpha-mail.example", "no-mail")],
    )
    assert OrganizationStatus.objects.get(organization=org).level == Level.PARTIAL


def test_it_finishes_the_cycle_when_every_domain_is_stored(org) -> None:
    cycle = _cycle(*org.domains.all())
    store.domain_results_store(cycle=cycle, results=[result("alpha.example")])
    assert cycles.cycle_finish_if_done(cycle_id=cycle.pk) == 0
    store.domain_results_store(cycle=cycle, results=[result("alpha-mail.example", "plaintext")])
    assert cycles.cycle_finish_if_done(cycle_id=cycle.pk) == 1
    assert cycles.cycle_finish_if_done(cycle_id=cycle.pk) == 0
    cycle.refresh_from_db()
    assert cycle.finished is not None
    assert cycle.counts == {"verified": 1, "plaintext": 1}


def test_it_stores_what_a_hostile_server_sent(org) -> None:
    from dataclasses import replace

    garbage = result("alpha.example", "unreachable")
    address = replace(
        garbage.mx[0].addresses[0],
        error="protocol-error",
        smtp_reply="\x00\x01binary\x00garbage" * 200,
        extensions=("PIPE\x00LINING",),
    )
    garbage = replace(garbage, mx=(replace(garbage.mx[0], addresses=(address,)),))
    store.domain_results_store(cycle=_cycle(*org.domains.all()), results=[garbage])
    observation = HostObservation.objects.get()
    assert "\x00" not in observation.smtp_reply
    assert observation.smtp_reply.startswith("\ufffd\x01binary")
    assert len(observation.smtp_reply) == 2000
    assert observation.extensions == ["PIPE\ufffdLINING"]


def test_it_gives_up_on_a_result_the_database_refuses(org, monkeypatch) -> None:
    from django.db import DataError

    cycle = _cycle(*org.domains.all())
    real = store.domain_results_store

    def refuse_alpha(*, cycle, results, domain_ids=None):  # noqa: ANN202
        if any(r.domain == "alpha.example" for r in results):
            raise DataError("refused")
        return real(cycle=cycle, results=results, domain_ids=domain_ids)

    monkeypatch.setattr(store, "domain_results_store", refuse_alpha)
    monkeypatch.setattr(
        store,
        "probe_domains",
        lambda names, config: [result(name) for name in names],
    )
    outcome = store.cycle_batch_run(
        cycle_id=cycle.pk, domain_ids=list(org.domains.values_list("pk", flat=True)), config=None
    )
    assert outcome.stored == 1
    cycle.refresh_from_db()
    assert cycle.done == 2
    assert cycle.finished is not None
    assert cycle.counts == {"verified": 1, "": 1}
    assert DomainStatus.objects.get(domain__name="alpha-mail.example").level == "verified"
