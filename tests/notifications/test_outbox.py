"""The outbox: real SMTP delivery, exactly once with concurrent senders, retries with backoff."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from monitoring.notifications import outbox
from monitoring.notifications.models import OutboxMessage
from monitoring.notifications.outbox import Outgoing, Rendered
from tests.notifications.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


def _queue(n: int = 1, prefix: str = "test") -> None:
    outbox.outbox_add(
        messages=[
            Outgoing(
                dedupe_key=f"{prefix}:{i}",
                kind=OutboxMessage.Kind.ALERT,
                to=f"it{i}@alpha.example",
                rendered=Rendered(
                    subject=f"Subject {i}",
                    text=f"text {i}",
                    html=f"<p>html {i}</p>",
                    headers={"List-Unsubscribe": f"<https://secmail.test/email/{i}/>"},
                ),
            )
            for i in range(n)
        ]
    )


def test_it_delivers_both_parts_and_headers_over_smtp(sink: SmtpSink) -> None:
    _queue()
    report = outbox.outbox_send_due()
    assert (report.sent, report.failed) == (1, 0)
    [message] = sink.messages
    assert message["To"] == "it0@alpha.example"
    assert message["Subject"] == "Subject 0"
    assert message["List-Unsubscribe"] == "<https://secmail.test/email/0/>"
    assert message["Message-ID"].endswith("@secmail.test>")
    assert message.get_body(("plain",)).get_content().strip() == "text 0"
    assert message.get_body(("html",)).get_content().strip() == "<p>html 0</p>"
    row = OutboxMessage.objects.get()
    assert row.state == OutboxMessage.State.SENT
    assert row.attempts == 1


def test_it_queues_a_dedupe_key_once(sink: SmtpSink) -> None:
    _queue()
    _queue()
    assert OutboxMessage.objects.count() == 1
    outbox.outbox_send_due()
    outbox.outbox_send_due()
    assert len(sink.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_message_once_with_concurrent_senders(sink: SmtpSink) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database locks whole tables under threads")
    _queue(40)
    barrier = threading.Barrier(4)
    reports = []

    def worker() -> None:
        try:
            barrier.wait()
            reports.append(outbox.outbox_send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(report.sent for report in reports) == 40
    assert sorted(message["To"] for message in sink.messages) == sorted(
        f"it{i}@alpha.example" for i in range(40)
    )
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_it_keeps_messages_queued_while_smtp_is_down_and_retries_with_backoff(
    sink: SmtpSink,
) -> None:
    _queue(3)
    sink.stop()
    now = timezone.now()
    report = outbox.outbox_send_due(now=now)
    # The relay is down: the run stops at the first failure and leaves the rest untouched.
    assert (report.sent, report.failed) == (0, 1)
    assert OutboxMessage.objects.filter(state="queued").count() == 3
    failed = OutboxMessage.objects.get(attempts=1)
    assert failed.next_attempt_at == now + outbox.BACKOFF_START
    assert "ConnectionRefusedError" in failed.last_error
    # Still down a little later: the others fail in turn; the first waits for its backoff.
    later = now + timedelta(seconds=30)
    outbox.outbox_send_due(now=later)
    outbox.outbox_send_due(now=later)
    assert OutboxMessage.objects.get(pk=failed.pk).attempts == 1
    outbox.outbox_send_due(now=now + timedelta(minutes=2))
    assert OutboxMessage.objects.get(pk=failed.pk).attempts == 2
    assert OutboxMessage.objects.get(pk=failed.pk).next_attempt_at == now + timedelta(minutes=4)
    # The relay is back: each message goes once, when its time comes.
    sink.start()
    report = outbox.outbox_send_due(now=now + timedelta(minutes=10))
    assert report.sent == 3
    assert outbox.outbox_send_due(now=now + timedelta(hours=1)).sent == 0
    assert sorted(message["To"] for message in sink.messages) == [
        "it0@alpha.example",
        "it1@alpha.example",
        "it2@alpha.example",
    ]


def test_it_doubles_the_backoff_up_to_a_cap() -> None:
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert outbox.backoff(30) == outbox.BACKOFF_MAX


def test_it_gives_up_after_the_last_attempt(sink: SmtpSink) -> None:
    _queue()
    OutboxMessage.objects.update(attempts=outbox.MAX_ATTEMPTS - 1)
    sink.stop()
    outbox.outbox_send_due()
    row = OutboxMessage.objects.get()
    assert row.state == OutboxMessage.State.FAILED
    assert row.attempts == outbox.MAX_ATTEMPTS


def test_it_requeues_a_claim_left_by_a_dead_worker(sink: SmtpSink) -> None:
    _queue()
    now = timezone.now()
    OutboxMessage.objects.update(state="sending", claimed_at=now - timedelta(minutes=5))
    assert outbox.outbox_send_due(now=now).sent == 0  # maybe still being sent
    report = outbox.outbox_send_due(now=now + outbox.STALE_CLAIM)
    assert (report.requeued, report.sent) == (1, 1)
    assert len(sink.messages) == 1
