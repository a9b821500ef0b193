"""outbound_address, export_outbound (JSON, CSV, the 30-day window), receive_mail's checks."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.evidence.conftest import ALPHA, RECEIVER_DOMAIN

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def record(
    organization: Any, ip: str, tls_version: str, *, days_ago: float = 0, authenticated: bool = True
) -> None:
    from monitoring.evidence.models import ReceivedMessage

    ReceivedMessage.objects.create(
        organization=organization,
        received_at=timezone.now() - timedelta(days=days_ago),
        client_ip=ip,
        helo=f"gw.{ALPHA}",
        mail_from_domain=ALPHA,
        tls_version=tls_version,
        cipher="TLS_AES_256_GCM_SHA384" if tls_version else "",
        spf_result="pass" if authenticated else "fail",
        dkim_result="none",
        authenticated=authenticated,
        auth_reason="SPF pass" if authenticated else "not authenticated for your domains",
    )


class TestOutboundAddress:
    def test_it_prints_a_stable_address_by_slug_or_name(self, orgs: Any) -> None:
        by_slug = run("outbound_address", "alpha-brokers").strip()
        by_name = run("outbound_address", "Alpha Brokers").strip()
        assert by_slug == by_name == orgs.alpha_address
        token, _, domain = by_slug.partition("@")
        assert domain == RECEIVER_DOMAIN
        assert len(token) == 24 and token.isalnum()
        assert orgs.charlie_address.partition("@")[0] != token

    def test_it_refuses_an_unknown_organization(self, orgs: Any) -> None:
        with pytest.raises(CommandError, match="no organization"):
            run("outbound_address", "nobody")

    def test_it_needs_the_receiver_domain(self, orgs: Any, settings: Any) -> None:
        settings.SECMAIL_RECEIVER_DOMAIN = ""
        with pytest.raises(CommandError, match="SECMAIL_RECEIVER_DOMAIN"):
            run("outbound_address", "alpha-brokers")

    def test_receive_mail_refuses_to_start_without_a_certificate(self, settings: Any) -> None:
        settings.SECMAIL_RECEIVER_DOMAIN = RECEIVER_DOMAIN
        settings.SECMAIL_RECEIVER_TLS_CERT = None
        with pytest.raises(CommandError, match="SECMAIL_RECEIVER_TLS_CERT"):
            run("receive_mail")


class TestExportOutbound:
    def test_it_uses_each_gateways_latest_message_within_30_days(self, orgs: Any) -> None:
        record(orgs.alpha, "192.0.2.1", "", days_ago=3)  # plain text, then fixed:
        record(orgs.alpha, "192.0.2.1", "TLSv1.3", days_ago=1)
        record(orgs.alpha, "192.0.2.2", "", days_ago=31)  # too old to count
        record(orgs.charlie, "192.0.2.9", "TLSv1.1", days_ago=2)
        record(orgs.charlie, "192.0.2.10", "", authenticated=False)
        rows = {r["slug"]: r for r in map(json.loads, run("export_outbound").splitlines())}
        assert rows["alpha-brokers"]["outbound"] == "tls"
        assert [g["ip"] for g in rows["alpha-brokers"]["gateways"]] == ["192.0.2.1"]
        charlie = rows["charlie-insurance"]
        assert charlie["outbound"] == "legacy-tls"
        assert [(g["ip"], g["authenticated"]) for g in charlie["gateways"]] == [
            ("192.0.2.9", True),
            ("192.0.2.10", False),
        ]
        assert set(charlie["gateways"][0]) >= {
            "ip", "helo", "tls_version", "cipher", "seen_at", "authenticated",
        }  # fmt: skip

    def test_it_writes_csv_with_one_row_per_gateway(self, orgs: Any) -> None:
        record(orgs.alpha, "192.0.2.1", "TLSv1.2")
        rows = list(csv.DictReader(StringIO(run("export_outbound", "--format", "csv"))))
        assert [(r["slug"], r["outbound"], r["ip"]) for r in rows] == [
            ("alpha-brokers", "tls", "192.0.2.1"),
            ("charlie-insurance", "unknown", ""),
        ]
        assert rows[0]["authenticated"] == "yes"
