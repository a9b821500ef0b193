"""Fixtures for digests and alerts: an SMTP sink on loopback, stored probe results, contacts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from monitoring.models import CycleDomain, ProbeCycle
from monitoring.notifications import tasks as notify_tasks
from monitoring.probe import DomainResult
from partners.models import Contact, Organization
from tests.notifications.smtp_sink import SmtpSink

SITE = "https://secmail.test"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Record the tasks services would send to the broker; tests call the services directly."""
    sent: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        notify_tasks.outbox_send, "delay", lambda *args: sent.append(("outbox_send", args))
    )
    monkeypatch.setattr(
        notify_tasks.alerts_after_batch,
        "delay",
        lambda *args: sent.append(("alerts_after_batch", args)),
    )
    return sent


@pytest.fixture(autouse=True)
def _site_url() -> Iterator[None]:
    with override_settings(
        SECMAIL_SITE_URL=SITE, DEFAULT_FROM_EMAIL="secmail <noreply@secmail.test>"
    ):
        yield


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 that Django's SMTP backend delivers to."""
    with (
        SmtpSink() as server,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ),
    ):
        yield server


def store(organization: Organization, results: list[DomainResult]) -> ProbeCycle:
    """Store results for the organization's domains as one cycle would (alerts hook included)."""
    from monitoring import store as pipeline_store

    cycle = ProbeCycle.objects.create(trigger="manual", total=len(results))
    CycleDomain.objects.bulk_create(
        [CycleDomain(cycle=cycle, domain=domain) for domain in organization.domains.all()]
    )
    pipeline_store.domain_results_store(cycle=cycle, results=results)
    return cycle


def contact(
    organization: Organization,
    email: str,
    *,
    language: str = "en",
    digest: str = Contact.Digest.WEEKLY,
    always: bool = False,
) -> Contact:
    return Contact.objects.create(
        organization=organization,
        name=email.split("@")[0].title(),
        email=email,
        language=language,
        digest=digest,
        digest_always=always,
    )
