"""Alerts after a batch: expiry thresholds once each (time travel), regressions, MX changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring.models import ProbeCycle
from monitoring.notifications import alerts
from monitoring.notifications.models import OutboxMessage
from monitoring.probe import Level
from partners.models import Contact
from tests.monitoring.factories import T0, certificate, organization, result
from tests.notifications.conftest import contact, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha():  # noqa: ANN201
    return organization("Alpha Brokers", "alpha.example")


def _run(cycle: ProbeCycle, organization, now) -> int:  # noqa: ANN001
    ids = list(organization.domains.values_list("pk", flat=True))
    return alerts.alerts_after_batch(cycle_id=cycle.pk, domain_ids=ids, now=now)


def _subjects(kind: str = "alert") -> list[str]:
    return list(
        OutboxMessage.objects.filter(kind=kind).order_by("pk").values_list("subject", flat=True)
    )


def test_it_picks_the_tightest_threshold_crossed() -> None:
    assert [alerts.expiry_threshold(days) for days in (45, 31, 30, 20, 14, 8, 7, 2, 1, 0, -1)] == [
        None, None, 30, 30, 14, 14, 7, 7, 1, 1, None,
    ]  # fmt: skip


def test_it_alerts_each_expiry_threshold_once(alpha) -> None:
    contact(alpha, "it@alpha.example")
    cert = certificate("mx.alpha.example", days_left=40)
    cycle = store(alpha, [result("alpha.example", at=T0, cert=cert)])
    # Time travel: the cycle's observation stays, days pass; checked twice a day.
    for hours in range(0, 42 * 24, 12):
        _run(cycle, alpha, T0 + timedelta(hours=hours))
    assert _subjects() == [
        "Certificate on mx.alpha.example expires in 30 days",
        "Certificate on mx.alpha.example expires in 14 days",
        "Certificate on mx.alpha.example expires in 7 days",
        "Certificate on mx.alpha.example expires in 1 day",
    ]
    keys = OutboxMessage.objects.values_list("dedupe_key", flat=True)
    assert sorted(key.split(":")[3] for key in keys) == ["1", "14", "30", "7"]


def test_it_alerts_once_per_certificate_and_address(alpha) -> None:
    contact(alpha, "it@alpha.example")
    contact(alpha, "sec@alpha.example", language="fr-ca")
    cert = certificate("mx.alpha.example", days_left=5)
    hosts = (("mx1.alpha.example", "192.0.2.1"), ("mx2.alpha.example", "192.0.2.2"))
    cycle = store(alpha, [result("alpha.example", at=T0, cert=cert, hosts=hosts)])
    assert _run(cycle, alpha, T0) == 2
    assert _run(cycle, alpha, T0 + timedelta(hours=1)) == 0
    english, french = OutboxMessage.objects.order_by("to")
    assert "mx1.alpha.example, mx2.alpha.example" in english.body_text
    assert french.subject == "Le certificat de mx1.alpha.example expire dans 5 jours"
    assert "Renouvelez-le" in french.body_text


def test_it_alerts_a_regression_once(alpha) -> None:
    contact(alpha, "it@alpha.example")
    store(alpha, [result("alpha.example", at=T0)])
    assert _subjects() == []  # a first verdict is no regression
    cycle = store(alpha, [result("alpha.example", Level.PLAINTEXT, at=T0 + timedelta(days=1))])
    _run(cycle, alpha, T0 + timedelta(days=1))
    _run(cycle, alpha, T0 + timedelta(days=1))
    assert _subjects() == ["alpha.example dropped to Plain text"]
    [message] = OutboxMessage.objects.all()
    assert "went from Verified to Plain text" in message.body_text
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_alerts_no_improvement(alpha) -> None:
    contact(alpha, "it@alpha.example")
    store(alpha, [result("alpha.example", Level.ENCRYPTED, at=T0)])
    cycle = store(alpha, [result("alpha.example", at=T0 + timedelta(days=1))])
    assert _run(cycle, alpha, T0 + timedelta(days=1)) == 0


def test_it_alerts_an_mx_set_change_once(alpha) -> None:
    contact(alpha, "it@alpha.example")
    first = store(alpha, [result("alpha.example", at=T0)])
    assert _run(first, alpha, T0) == 0  # the first set seen is recorded silently
    elsewhere = (("mx.elsewhere.example", "192.0.2.9"),)
    moved = store(alpha, [result("alpha.example", at=T0 + timedelta(days=1), hosts=elsewhere)])
    assert _run(moved, alpha, T0 + timedelta(days=1)) == 1
    assert _run(moved, alpha, T0 + timedelta(days=1)) == 0
    [message] = OutboxMessage.objects.all()
    assert message.subject == "The mail servers of alpha.example changed"
    assert "Before: mx.alpha.example" in message.body_text
    assert "Now: mx.elsewhere.example" in message.body_text
    # And back again: a new change, a new alert.
    back = store(alpha, [result("alpha.example", at=T0 + timedelta(days=2))])
    assert _run(back, alpha, T0 + timedelta(days=2)) == 1


def test_it_tells_no_one_who_unsubscribed(alpha) -> None:
    contact(alpha, "it@alpha.example", digest=Contact.Digest.OFF)
    store(alpha, [result("alpha.example", at=T0)])
    cycle = store(alpha, [result("alpha.example", Level.PLAINTEXT, at=T0 + timedelta(days=1))])
    assert _run(cycle, alpha, T0 + timedelta(days=1)) == 0


def test_it_is_scheduled_when_a_batch_is_stored(alpha, _no_broker, monkeypatch) -> None:  # noqa: ANN001
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, *args, **kwargs: func())
    cycle = store(alpha, [result("alpha.example", at=T0)])
    assert ("alerts_after_batch", (cycle.pk, [alpha.domains.get().pk])) in _no_broker
