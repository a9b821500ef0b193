"""One regression rule and one set of warning labels for pages, digests and alerts alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from monitoring import levels
from monitoring.dashboard import selectors as reads
from monitoring.dashboard.templatetags.dashboard import warning_label
from monitoring.notifications import alerts, digests
from monitoring.notifications.models import OutboxMessage
from monitoring.probe import Level
from partners.models import Organization
from tests.monitoring.factories import T0, organization, result
from tests.notifications.conftest import contact, store

pytestmark = pytest.mark.django_db

MONDAY = T0 + timedelta(days=1)  # the staff digest of this day covers Oct 26 - Nov 1


@pytest.mark.parametrize(
    ("old", "new", "direction"),
    [
        ("unreachable", "plaintext", levels.REGRESSION),
        ("verified", "encrypted", levels.REGRESSION),
        ("partial", "plaintext", levels.REGRESSION),
        ("no-mail", "plaintext", levels.REGRESSION),
        ("plaintext", "partial", levels.IMPROVEMENT),
        ("plaintext", "unreachable", levels.OTHER),
        ("verified", "no-mail", levels.OTHER),
        ("", "plaintext", levels.OTHER),  # a first result is no move
        ("verified", "verified", levels.OTHER),
    ],
)
def test_it_reads_every_move_with_one_rule(old, new, direction) -> None:
    assert levels.change_direction(old, new) == direction


def test_it_reports_unreachable_to_plaintext_as_a_regression_everywhere(personas) -> None:
    org = organization("Lapsed Brokers", "lapsed.example")
    contact(org, "it@lapsed.example")
    store(org, [result("lapsed.example", Level.UNREACHABLE, at=T0 - timedelta(days=10))])
    cycle = store(org, [result("lapsed.example", Level.PLAINTEXT, at=T0 - timedelta(days=2))])
    Organization.objects.update(created=T0 - timedelta(days=30))

    [move] = reads.overview(now=T0).moves
    assert (move.before, move.after, move.better) == (Level.UNREACHABLE, Level.PLAINTEXT, False)

    staff = digests.staff_digest_build(now=MONDAY)
    assert [(r.name, r.before, r.after) for r in staff.regressions] == [
        ("Lapsed Brokers", "unreachable", "plaintext")
    ]

    ids = list(org.domains.values_list("pk", flat=True))
    alerts.alerts_after_batch(cycle_id=cycle.pk, domain_ids=ids, now=T0)
    subjects = list(OutboxMessage.objects.filter(kind="alert").values_list("subject", flat=True))
    assert any("lapsed.example" in subject for subject in subjects), subjects


def test_it_shows_the_same_translated_warning_labels_in_emails_as_in_pages() -> None:
    org = organization("Beta Brokers", "beta.example")
    person = contact(org, "it@beta.example", language="fr-ca")
    store(org, [result("beta.example", at=T0 - timedelta(days=3), warnings=())])
    store(org, [result("beta.example", at=T0 - timedelta(days=1), warnings=("weak-key",))])
    person.refresh_from_db()
    [(_contact, digest)] = list(digests.digests_build(contacts=[person], now=T0))
    rendered = digests.digest_render(digest)
    with translation.override("fr-ca"):
        label = warning_label("weak-key")
    assert label != "weak-key"
    assert label in rendered.text
    assert "weak-key" not in rendered.text
