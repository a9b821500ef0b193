"""The weekly staff digest: rollout and its change, regressions, organizations nobody hears."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring.notifications import digests, outbox
from monitoring.probe import Level
from partners.models import Contact, Organization
from tests.monitoring.factories import T0, organization, result
from tests.notifications.conftest import contact, store
from tests.notifications.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

MONDAY = T0 + timedelta(days=1)  # 2026-11-02: the week reported is Oct 26 - Nov 1


@pytest.fixture
def industry(personas):  # noqa: ANN001, ANN201
    regressed = organization("Regressed Co", "regressed.example")
    steady = organization("Steady Co", "steady.example")
    store(regressed, [result("regressed.example", at=T0 - timedelta(days=10))])
    store(steady, [result("steady.example", at=T0 - timedelta(days=10))])
    store(regressed, [result("regressed.example", Level.PLAINTEXT, at=T0 - timedelta(days=2))])
    contact(steady, "it@steady.example")
    contact(regressed, "off@regressed.example", digest=Contact.Digest.OFF)
    # Rollout counts organizations that existed then; these were created at the wall clock.
    Organization.objects.update(created=T0 - timedelta(days=30))
    return personas


def test_it_reports_figures_regressions_and_unheard_organizations(industry) -> None:
    digest = digests.staff_digest_build(now=MONDAY)
    assert str(digest.week_start) == "2026-10-26"
    assert str(digest.week_end) == "2026-11-01"
    figures = {row.level: (row.now, row.before) for row in digest.levels}
    assert figures["verified"] == (1, 2)
    assert figures["plaintext"] == (1, 0)
    assert [(r.name, r.before, r.after) for r in digest.regressions] == [
        ("Regressed Co", "verified", "plaintext")
    ]
    # Alpha Brokers and Charlie Insurance (personas) have no contact; Regressed Co's is off.
    assert digest.unreachable == ("Alpha Brokers", "Charlie Insurance", "Regressed Co")


def test_it_delivers_once_a_week_to_staff(industry, sink: SmtpSink) -> None:
    assert digests.staff_digest_enqueue(now=MONDAY) == 1
    assert digests.staff_digest_enqueue(now=MONDAY + timedelta(hours=3)) == 0
    outbox.outbox_send_due()
    [message] = sink.messages
    assert message["To"] == "staff@example.org"
    assert message["Subject"] == "secmail rollout, week of 2026-10-26 to 2026-11-01"
    text = message.get_body(("plain",)).get_content()
    assert "- Plain text: 1 (+1)" in text
    assert "- Regressed Co: Verified -> Plain text" in text
    assert "3 organizations have no contact receiving digests or alerts" in text
    assert "Regressed Co" in message.get_body(("html",)).get_content()
