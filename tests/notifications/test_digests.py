"""Digest content, rendering in the contact's language, skipping quiet ones, once per period."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import OrganizationStatus
from monitoring.notifications import digests
from monitoring.notifications.models import OutboxMessage
from monitoring.probe import Level
from partners.models import Contact
from partners.services import partnership_create
from tests.monitoring.factories import T0, certificate, organization, result
from tests.notifications.conftest import contact, store

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(hours=1)  # a Sunday in Toronto
MONDAY = T0 + timedelta(days=1)


def _self_signed(host: str) -> object:
    return dataclasses.replace(
        certificate(host, sha="b" * 64), self_signed=True, trusted=False, errors=("self-signed",)
    )


@pytest.fixture
def alpha():  # noqa: ANN201
    """Two domains: alpha.example stays verified with a certificate expiring in 10 days;
    alpha-mail.example regresses to encrypted (self-signed) in the latest cycle. Its partner
    Charlie went from plaintext to verified."""
    org = organization("Alpha Brokers", "alpha.example", "alpha-mail.example")
    charlie = organization("Charlie Insurance", "charlie.example", kind="insurer")
    partnership_create(org, charlie)
    earlier = T0 - timedelta(days=20)
    store(org, [result("alpha.example", at=earlier), result("alpha-mail.example", at=earlier)])
    store(charlie, [result("charlie.example", Level.PLAINTEXT, at=earlier)])
    store(
        org,
        [
            result(
                "alpha.example",
                at=T0,
                cert=certificate("mx.alpha.example", sha="a" * 64, days_left=10),
            ),
            result(
                "alpha-mail.example",
                Level.ENCRYPTED,
                at=T0,
                cert=_self_signed("mx.alpha-mail.example"),
            ),
        ],
    )
    store(charlie, [result("charlie.example", at=T0)])
    # Organization levels move at the wall clock's time; put them in this test's time.
    OrganizationStatus.objects.update(since=T0)
    return org


def _digest(found: Contact) -> digests.Digest:
    [(_, digest)] = digests.digests_build(contacts=[found], now=NOW)
    return digest


def test_it_says_what_changed_what_expires_and_how_to_fix(alpha) -> None:
    digest = _digest(contact(alpha, "it@alpha.example"))
    assert digest.level == "encrypted"
    assert digest.organization_url == "https://secmail.test/orgs/alpha-brokers/"
    assert [(c.domain, c.from_level, c.to_level, c.direction) for c in digest.changes] == [
        ("alpha-mail.example", "verified", "encrypted", "regression")
    ]
    assert [(e.host, e.days_left) for e in digest.expiring] == [("mx.alpha.example", 9)]
    problems = {domain.name: [a.code for a in domain.advice] for domain in digest.domains}
    assert problems["alpha-mail.example"][0] == "self-signed"
    assert "cert-expiring" in problems["alpha.example"]
    assert [(p.name, p.level) for p in digest.partners] == [("Charlie Insurance", "verified")]
    assert digest.has_news


def test_it_lists_regressions_before_improvements(alpha) -> None:
    store(
        alpha,
        [
            result("alpha.example", Level.PLAINTEXT, at=T0 + timedelta(minutes=10)),
            result("alpha-mail.example", at=T0 + timedelta(minutes=10)),
        ],
    )
    digest = _digest(contact(alpha, "it@alpha.example"))
    assert [c.direction for c in digest.changes] == ["regression", "regression", "improvement"]
    assert digest.changes[1].to_level == "plaintext"


def test_it_covers_the_time_since_the_previous_digest(alpha) -> None:
    found = contact(alpha, "it@alpha.example")
    OutboxMessage.objects.create(
        dedupe_key="digest:previous", kind="digest", contact=found, to=found.email,
        subject="s", body_text="t", body_html="h", state="sent", created=T0 + timedelta(minutes=5),
    )  # fmt: skip
    digest = _digest(found)
    assert digest.since == T0 + timedelta(minutes=5)
    assert digest.changes == ()
    assert digest.partners == ()


def test_it_renders_text_and_html_in_english(alpha) -> None:
    rendered = digests.digest_render(_digest(contact(alpha, "it@alpha.example")))
    assert rendered.subject == "secmail digest for Alpha Brokers: Encrypted"
    assert "alpha-mail.example: Verified -> Encrypted" in rendered.text
    assert "mx.alpha.example: expires in 9 days" in rendered.text
    assert "presents a self-signed certificate" in rendered.text
    assert "https://secmail.test/orgs/alpha-brokers/" in rendered.text
    assert "https://secmail.test/email/" in rendered.text
    assert "<strong>alpha-mail.example</strong>: Verified → Encrypted" in rendered.html
    assert rendered.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_renders_in_canadian_french(alpha) -> None:
    rendered = digests.digest_render(_digest(contact(alpha, "ti@alpha.example", language="fr-ca")))
    assert rendered.subject == "Résumé secmail pour Alpha Brokers : Chiffré"
    assert "Ce qui a changé" in rendered.text
    assert "expire dans 9 jours" in rendered.text
    assert "autosigné" in rendered.text
    assert 'lang="fr-ca"' in rendered.html
    assert "Ce qui a changé" in rendered.html


def test_it_skips_a_digest_with_nothing_to_say_unless_asked_always() -> None:
    org = organization("Quiet Co", "quiet.example")
    store(org, [result("quiet.example", at=T0 - timedelta(days=30))])
    contact(org, "quiet@quiet.example", digest=Contact.Digest.DAILY)
    contact(org, "always@quiet.example", digest=Contact.Digest.DAILY, always=True)
    run, outgoing = digests.digests_enqueue(now=NOW)
    assert (run.queued, run.skipped_quiet) == (1, 1)
    assert [message.to for message in outgoing] == ["always@quiet.example"]


def test_it_queues_daily_digests_daily_and_weekly_ones_on_mondays(alpha) -> None:
    contact(alpha, "daily@alpha.example", digest=Contact.Digest.DAILY)
    contact(alpha, "weekly@alpha.example")
    contact(alpha, "off@alpha.example", digest=Contact.Digest.OFF)
    run, _ = digests.digests_enqueue(now=NOW)
    assert run.queued == 1
    run, _ = digests.digests_enqueue(now=NOW + timedelta(hours=2))
    assert (run.queued, run.already) == (0, 1)
    run, _ = digests.digests_enqueue(now=MONDAY)
    assert run.queued == 2  # the daily one of Monday, and the weekly one
    assert sorted(OutboxMessage.objects.values_list("dedupe_key", flat=True)) == sorted(
        [
            f"digest:{Contact.objects.get(email='daily@alpha.example').pk}:2026-11-01",
            f"digest:{Contact.objects.get(email='daily@alpha.example').pk}:2026-11-02",
            f"digest:{Contact.objects.get(email='weekly@alpha.example').pk}:2026-W45",
        ]
    )


def test_it_stores_nothing_on_a_dry_run(alpha) -> None:
    contact(alpha, "it@alpha.example")
    run, outgoing = digests.digests_enqueue(now=MONDAY, dry_run=True)
    assert run.queued == len(outgoing) == 1
    assert not OutboxMessage.objects.exists()


def test_it_reads_a_constant_number_of_queries_per_round(
    alpha, django_assert_max_num_queries
) -> None:
    for i in range(40):
        org = organization(f"Org {i}", f"org{i}.example")
        partnership_create(alpha, org)
        store(org, [result(f"org{i}.example", Level.ENCRYPTED, at=T0)])
        contact(org, f"it@org{i}.example", language="fr-ca" if i % 2 else "en")
        contact(org, f"sec@org{i}.example")
    contacts = list(Contact.objects.select_related("organization"))
    with django_assert_max_num_queries(9):
        built = list(digests.digests_build(contacts=contacts, now=timezone.now()))
    assert len(built) == 80


def test_it_reminds_the_organization_a_week_before_its_explanation_date(alpha) -> None:
    from monitoring.explanations.services import explanation_record

    found = contact(alpha, "it@alpha.example")
    today = timezone.localdate(NOW)
    explanation_record(
        organization=alpha,
        author=None,
        text="Hosted mail by spring",
        target_date=today + timedelta(days=30),
    )
    assert _digest(found).explanation_due is None
    explanation_record(
        organization=alpha,
        author=None,
        text="Hosted mail next week",
        target_date=today + timedelta(days=6),
    )
    digest = _digest(found)
    assert digest.explanation_due.text == "Hosted mail next week"
    body = digests.digest_render(digest)
    assert "Hosted mail next week" in str(body)


def test_it_tells_how_the_organization_sends_and_what_senders_reported(alpha) -> None:
    import json

    from monitoring.evidence.services import tlsrpt_ingest
    from monitoring.models import OrganizationStatus

    found = contact(alpha, "it@alpha.example")
    OrganizationStatus.objects.filter(pk=alpha.pk).update(outbound="plaintext")
    day = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    report = {
        "organization-name": "Big Mail Co",
        "date-range": {"start-datetime": day, "end-datetime": day.replace("T00", "T23")},
        "contact-info": "tlsrpt@bigmail.example",
        "report-id": "r1",
        "policies": [
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": "alpha.example"},
                "summary": {
                    "total-successful-session-count": 90,
                    "total-failure-session-count": 7,
                },
                "failure-details": [
                    {"result-type": "certificate-expired", "failed-session-count": 7}
                ],
            }
        ],
    }
    tlsrpt_ingest(chunks=[json.dumps(report).encode()], kind="json", channel="file")
    [(_contact, digest)] = list(digests.digests_build(contacts=[found], now=timezone.now()))
    assert digest.has_news
    assert digest.outbound.code == "outbound-plaintext"
    [failure] = digest.reported_failures
    assert (failure.domain, failure.reporter, failure.count) == ("alpha.example", "Big Mail Co", 7)
    text = digests.digest_render(digest).text
    assert "sent mail in plain text" in text
    assert "Big Mail Co reported 7 failed sessions (certificate-expired)" in text


def test_it_reminds_an_organization_never_seen_sending(alpha) -> None:
    found = contact(alpha, "it@alpha.example", always=True)
    [(_contact, digest)] = list(digests.digests_build(contacts=[found], now=timezone.now()))
    assert digest.outbound.code == "outbound-unknown"
    assert "outbound test address" in digests.digest_render(digest).text


def test_it_says_when_a_regressed_partner_leaves_the_policy_feed(alpha) -> None:
    from partners.services import partnership_create

    found = contact(alpha, "it@alpha.example")
    partner = organization("Falling Mutual", "falling.example")
    partnership_create(alpha, partner)
    store(partner, [result("falling.example", Level.VERIFIED, at=NOW - timedelta(days=20))])
    store(partner, [result("falling.example", Level.PARTIAL, at=NOW - timedelta(days=1))])
    [(_contact, digest)] = list(digests.digests_build(contacts=[found], now=NOW))
    [moved] = [p for p in digest.partners if p.name == "Falling Mutual"]
    assert moved.out_of_feed
    assert not [p for p in digest.partners if p.name != "Falling Mutual" and p.out_of_feed]
    assert "left out of your TLS policy feed" in digests.digest_render(digest).text
