"""The stored outbound verdict: set as messages arrive, and aged out of its 30-day window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.evidence.models import ReceivedMessage
from monitoring.evidence.services import outbound_refresh
from monitoring.models import OrganizationStatus
from partners.services import organization_create

pytestmark = pytest.mark.django_db


def _seen(organization, *, days_ago: int, tls: str | None, authenticated: bool = True) -> None:  # noqa: ANN001
    ReceivedMessage.objects.create(
        organization=organization,
        received_at=timezone.now() - timedelta(days=days_ago),
        client_ip="192.0.2.25",
        helo="gw.example.ca",
        mail_from_domain="example.ca",
        tls_version=tls or "",
        cipher="TLS_AES_256_GCM_SHA384" if tls else "",
        authenticated=authenticated,
        auth_reason="SPF pass for example.ca" if authenticated else "SPF fail",
    )


def _stored(organization) -> str:  # noqa: ANN001
    return OrganizationStatus.objects.get(pk=organization.pk).outbound


def test_it_stores_the_verdict_and_forgets_it_after_thirty_days() -> None:
    org = organization_create(name="Example Brokers", domains=("example.ca",))
    quiet = organization_create(name="Quiet Mutual", domains=("quiet.example",))
    _seen(org, days_ago=29, tls=None)
    assert outbound_refresh() == 2  # both get a row; the quiet one says unknown
    assert (_stored(org), _stored(quiet)) == ("plaintext", "unknown")
    assert outbound_refresh() == 0
    assert outbound_refresh(now=timezone.now() + timedelta(days=2)) == 1
    assert _stored(org) == "unknown"


def test_it_counts_only_authenticated_gateways() -> None:
    org = organization_create(name="Example Brokers", domains=("example.ca",))
    _seen(org, days_ago=1, tls="TLSv1.3")
    _seen(org, days_ago=0, tls=None, authenticated=False)
    outbound_refresh(organization_ids=[org.pk])
    assert _stored(org) == "tls"
