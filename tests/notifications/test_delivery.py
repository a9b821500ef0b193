"""End to end over real SMTP: digests and alerts queued, sent to a loopback sink, as received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from monitoring.notifications import alerts, digests, outbox
from monitoring.probe import Level
from partners.models import Contact
from tests.monitoring.factories import T0, certificate, organization, result
from tests.notifications.conftest import SITE, contact, store
from tests.notifications.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

MONDAY = T0 + timedelta(days=1)


@pytest.fixture
def alpha():  # noqa: ANN201
    org = organization("Alpha Brokers", "alpha.example")
    store(org, [result("alpha.example", at=T0 - timedelta(days=3))])
    return org


def test_it_delivers_a_digest_in_each_language_with_both_parts(sink: SmtpSink, alpha) -> None:
    store(alpha, [result("alpha.example", Level.PLAINTEXT, at=T0)])
    contact(alpha, "it@alpha.example")
    contact(alpha, "ti@alpha.example", language="fr-ca")
    run, _ = digests.digests_enqueue(now=MONDAY)
    assert run.queued == 2
    assert outbox.outbox_send_due().sent == 2
    received = {message["To"]: message for message in sink.messages}
    english, french = received["it@alpha.example"], received["ti@alpha.example"]
    assert english["Subject"] == "secmail digest for Alpha Brokers: Plain text"
    # RFC 2047 encoded and folded: unfolding leaves the space after "Subject:".
    assert french["Subject"].strip() == "Résumé secmail pour Alpha Brokers : Texte clair"
    for message in (english, french):
        assert message["From"] == "secmail <noreply@secmail.test>"
        assert message["List-Unsubscribe"].strip().startswith(f"<{SITE}/email/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
    english_text = english.get_body(("plain",)).get_content()
    assert "alpha.example: Verified -> Plain text" in english_text
    assert "does not offer STARTTLS" in english_text
    assert f"{SITE}/orgs/alpha-brokers/" in english_text
    english_html = english.get_body(("html",)).get_content()
    assert '<a href="https://secmail.test/orgs/alpha-brokers/">' in english_html
    french_text = french.get_body(("plain",)).get_content()
    assert "Ce qui a changé" in french_text
    assert "alpha.example : Vérifié -> Texte clair" not in french_text  # domain, then colon
    assert "alpha.example: Vérifié -> Texte clair" in french_text
    assert 'lang="fr-ca"' in french.get_body(("html",)).get_content()


def test_it_delivers_an_alert_once_after_smtp_comes_back(sink: SmtpSink, alpha) -> None:
    contact(alpha, "it@alpha.example")
    cycle = store(
        alpha,
        [
            result(
                "alpha.example",
                at=T0,
                cert=certificate("mx.alpha.example", sha="c" * 64, days_left=6),
            )
        ],
    )
    ids = [alpha.domains.get().pk]
    sink.stop()
    assert alerts.alerts_after_batch(cycle_id=cycle.pk, domain_ids=ids, now=T0) == 1
    assert outbox.outbox_send_due(now=T0).failed == 1
    assert alerts.alerts_after_batch(cycle_id=cycle.pk, domain_ids=ids, now=T0) == 0
    sink.start()
    assert outbox.outbox_send_due(now=T0 + timedelta(minutes=1)).sent == 1
    assert outbox.outbox_send_due(now=T0 + timedelta(hours=1)).sent == 0
    [message] = sink.messages
    assert message["Subject"] == "Certificate on mx.alpha.example expires in 6 days"
    assert "List-Unsubscribe" in message
    assert "expires in 6 days" in message.get_body(("html",)).get_content()


def test_it_sends_digests_from_the_command(sink: SmtpSink, alpha, capsys) -> None:
    contact(alpha, "it@alpha.example", always=True)
    call_command("send_digests", "--contact", "IT@alpha.example", "--dry-run")
    out = capsys.readouterr().out
    assert "To: it@alpha.example" in out
    assert "Subject: secmail digest for Alpha Brokers: Verified" in out
    assert "would queue 1" in out
    assert sink.messages == []
    call_command("send_digests", "--contact", "it@alpha.example")
    call_command("send_digests", "--contact", "it@alpha.example")
    assert "already done this period for 1" in capsys.readouterr().out
    assert len(sink.messages) == 1


def test_it_previews_a_digest(alpha, capsys, tmp_path) -> None:
    contact(alpha, "it@alpha.example", digest=Contact.Digest.DAILY)
    page = tmp_path / "digest.html"
    call_command("preview_digest", "--contact", "it@alpha.example", "--html", str(page))
    out = capsys.readouterr().out
    assert "Subject: secmail digest for Alpha Brokers: Verified" in out
    assert "<!DOCTYPE html>" in page.read_text()


def test_it_refuses_to_preview_an_unknown_contact() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("preview_digest", "--contact", "nobody@example.org")
