"""Emails: rendering from templates, the outbox, and sending (once as far as SMTP allows)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from celery import current_app
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from monitoring.notifications.models import OutboxMessage
from partners.models import Contact

logger = logging.getLogger(__name__)

# Retry delays double from BACKOFF_START up to BACKOFF_MAX; after MAX_ATTEMPTS (about two days
# of an SMTP relay being down) a message is marked failed and stays in the table for a person.
BACKOFF_START = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=4)
MAX_ATTEMPTS = 20
# A message claimed longer ago than this belongs to a worker that died mid-send: requeue it.
# A crash after the relay accepted the message but before the row was marked sent would then
# send it again (with the same Message-ID, which mail clients merge); losing it is worse.
STALE_CLAIM = timedelta(minutes=30)
SMTP_TIMEOUT = 30
OUTBOX_SEND_TASK = "monitoring.notifications.tasks.outbox_send"
UNSUBSCRIBE_SALT = "monitoring.unsubscribe"


# -- links and the unsubscribe token -----------------------------------------------------------


def site_url(path: str) -> str:
    return f"{settings.SECMAIL_SITE_URL}{path}"


def _address_digest(email: str) -> str:
    # Only a digest: the address itself does not belong in a URL that mail scanners log.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def unsubscribe_token(contact: Contact) -> str:
    """A signed token naming the contact at its current address.

    It never expires, as links in old emails must work, but it is bound to the address: once an
    admin changes the contact's email, links mailed to the old address stop working, so a
    former holder of the role cannot unsubscribe the new one.
    """
    value = f"{contact.pk}:{_address_digest(contact.email)}"
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(value)


def contact_from_token(token: str) -> Contact | None:
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    pk, _, digest = value.partition(":")
    if not pk.isdigit() or not digest:
        return None  # a token from before addresses were bound: it may name someone else now
    contact = Contact.objects.filter(pk=int(pk)).select_related("organization").first()
    if contact is None or not hmac.compare_digest(digest, _address_digest(contact.email)):
        return None
    return contact


def unsubscribe_url(contact: Contact) -> str:
    return site_url(reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact)}))


def list_headers(contact: Contact) -> dict[str, str]:
    """RFC 2369 and RFC 8058 one-click unsubscribe headers for mail to a contact."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# -- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def make_message(
    name: str, context: Mapping[str, Any], *, language: str, headers: dict[str, str] | None = None
) -> Rendered:
    """Render emails/<name>-subject.txt, -body.txt and -body.html in `language`."""
    with translation.override(language):
        subject = render_to_string(f"emails/{name}-subject.txt", context)
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    # A subject is one line, however the template wraps it.
    subject = " ".join(subject.split())[:255]
    return Rendered(subject=subject, text=text, html=html, headers=headers or {})


# -- the outbox ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    dedupe_key: str
    kind: str
    to: str
    rendered: Rendered
    contact_id: int | None = None


def outbox_add(*, messages: Iterable[Outgoing], now: datetime | None = None) -> int:
    """Queue messages, each at most once ever (by dedupe key); the sender is woken on commit.

    Returns how many were new.
    """
    now = now or timezone.now()
    rows = [
        OutboxMessage(
            dedupe_key=message.dedupe_key[:255],
            kind=message.kind,
            contact_id=message.contact_id,
            to=message.to,
            subject=message.rendered.subject,
            body_text=message.rendered.text,
            body_html=message.rendered.html,
            headers=message.rendered.headers,
            next_attempt_at=now,
            created=now,
        )
        for message in messages
    ]
    if not rows:
        return 0
    keys = [row.dedupe_key for row in rows]
    with transaction.atomic():
        before = set(
            OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        added = len(set(keys) - before)
        if added:
            transaction.on_commit(_wake_sender)
    return added


def _wake_sender() -> None:
    # By name: the tasks module imports this one.
    current_app.tasks[OUTBOX_SEND_TASK].delay()


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 1, 2, 4 ... minutes, capped."""
    return min(BACKOFF_START * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _message_id(row: OutboxMessage) -> str:
    # Stable per row: a resend after a crash carries the same id, so clients merge the two.
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def _email(row: OutboxMessage, connection: Any) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={**row.headers, "Message-ID": _message_id(row)},
        connection=connection,
    )
    email.attach_alternative(row.body_html, "text/html")
    return email


@dataclass(frozen=True, slots=True)
class SendReport:
    sent: int
    failed: int  # attempts that failed this run (each message is back in the queue or failed)
    requeued: int  # stale claims put back


def outbox_send_due(*, now: datetime | None = None, limit: int = 500) -> SendReport:
    """Send queued messages whose time has come, each claimed before it is sent.

    The claim (queued -> sending, a conditional UPDATE) lets exactly one caller send a message
    however many run at once. A failure puts it back with a later `next_attempt_at`; when the
    relay itself is unreachable the run stops, leaving the rest queued.
    """
    now = now or timezone.now()
    requeued = OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(state=OutboxMessage.State.QUEUED, next_attempt_at=now)
    due = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = failed = 0
    if not due:
        return SendReport(0, 0, requeued)
    connection = get_connection(timeout=SMTP_TIMEOUT)
    try:
        for pk in due:
            claimed = OutboxMessage.objects.filter(pk=pk, state=OutboxMessage.State.QUEUED).update(
                state=OutboxMessage.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
            if not claimed:
                continue  # another sender has it
            row = OutboxMessage.objects.get(pk=pk)
            try:
                _email(row, connection).send()
            except (smtplib.SMTPException, OSError) as exc:
                failed += 1
                _failed(row, exc, now)
                if _relay_down(exc):
                    break
                continue
            OutboxMessage.objects.filter(pk=pk, state=OutboxMessage.State.SENDING).update(
                state=OutboxMessage.State.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    finally:
        # A relay that went away leaves nothing to close cleanly.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    return SendReport(sent, failed, requeued)


def _relay_down(exc: BaseException) -> bool:
    # A refused recipient is this message's problem; anything else is the relay's.
    return not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError)


def _failed(row: OutboxMessage, exc: BaseException, now: datetime) -> None:
    permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values()
    )
    give_up = permanent or row.attempts >= MAX_ATTEMPTS
    error = f"{type(exc).__name__}: {exc}"[:2000]
    OutboxMessage.objects.filter(pk=row.pk, state=OutboxMessage.State.SENDING).update(
        state=OutboxMessage.State.FAILED if give_up else OutboxMessage.State.QUEUED,
        next_attempt_at=now + backoff(row.attempts),
        last_error=error,
    )
    log = logger.error if give_up else logger.warning
    log("outbox: %s to %s, attempt %d: %s", row.kind, row.to, row.attempts, error)


def contact_frequency_set(*, contact: Contact, frequency: str) -> None:
    """Set how often a contact hears from us (`off`: no digest and no alert)."""
    Contact.objects.filter(pk=contact.pk).update(digest=frequency, updated=timezone.now())
    contact.digest = frequency
