"""Demo evidence from real mail: a few organizations' gateways seen sending, one TLS report.

Demo data, stored through the evidence room's own services and models: messages "received"
from documentation addresses (192.0.2.0/24, never connected to) and a report shaped like a
large sender's, so `make run` shows observed outbound for some organizations, "assumed" for
the others, and TLS report figures beside a domain's probe results, with no internet.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.evidence import services
from monitoring.evidence.models import ReceivedMessage
from partners.models import Organization
from partners.services import organization_slug

DEMO_REASON = "DEMO DATA: SPF pass for {domain}"
# (organization, gateway address, HELO, TLS version or None, authenticated)
GATEWAYS: list[tuple[str, str, str, str | None, bool]] = [
    ("Maple Mutual Insurance", "192.0.2.10", "mx-out1.maplemutual.demo.lab.test", "TLSv1.3", True),
    ("Maple Mutual Insurance", "192.0.2.11", "mx-out2.maplemutual.demo.lab.test", "TLSv1.2", True),
    ("Rideau Brokers", "192.0.2.20", "mail.rideaubrokers.demo.lab.test", "TLSv1.3", True),
    ("Laurentian General", "192.0.2.30", "smtp.laurentiangeneral.demo.lab.test", "TLSv1.2", True),
    # An old on-premises gateway that sends in plain text: its partners' pairs drop to a.
    (
        "Courtage Saint-Laurent",
        "192.0.2.40",
        "exchange.courtage-stlaurent.demo.lab.test",
        None,
        True,
    ),
    ("Red River Brokerage", "192.0.2.50", "mail.redriverbrokerage.demo.lab.test", "TLSv1", True),
    # Someone who learned Chinook's address: listed, never counted.
    ("Chinook Insurance Brokers", "198.51.100.7", "unknown.example", None, False),
]
REPORTED_DOMAIN = "maplemutual.demo.lab.test"


CIPHERS = {
    "TLSv1.3": "TLS_AES_256_GCM_SHA384",
    "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLSv1": "ECDHE-RSA-AES256-SHA",
}


def demo_report(now: datetime) -> dict[str, object]:
    """A day's SMTP TLS report for one demo domain, shaped like a large sender's."""
    day = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    stamp = day.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (day + timedelta(days=1) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "organization-name": "Demo Mail Provider (DEMO DATA)",
        "date-range": {"start-datetime": stamp, "end-datetime": end},
        "contact-info": "tlsrpt@provider.demo.test",
        "report-id": f"{stamp}_{REPORTED_DOMAIN}",
        "policies": [
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": REPORTED_DOMAIN},
                "summary": {
                    "total-successful-session-count": 2310,
                    "total-failure-session-count": 12,
                },
                "failure-details": [
                    {
                        "result-type": "validation-failure",
                        "sending-mta-ip": "192.0.2.99",
                        "receiving-mx-hostname": f"mx.{REPORTED_DOMAIN}",
                        "failed-session-count": 9,
                    },
                    {
                        "result-type": "sts-policy-fetch-error",
                        "sending-mta-ip": "192.0.2.99",
                        "failed-session-count": 3,
                    },
                ],
            }
        ],
    }


def load_demo_evidence(*, now: datetime | None = None) -> int:
    """Record the demo gateways and report once (nothing when any is there); returns how many
    messages were recorded."""
    now = now or timezone.now()
    by_name = {
        org.name: org
        for org in Organization.objects.filter(
            slug__in=[organization_slug(name) for name, *_ in GATEWAYS]
        )
    }
    if ReceivedMessage.objects.filter(organization__in=by_name.values()).exists():
        return 0
    recorded = 0
    for hours, (name, ip, helo, version, authenticated) in enumerate(GATEWAYS, start=1):
        organization = by_name.get(name)
        if organization is None:
            continue
        domain = organization.domains.order_by("name").values_list("name", flat=True).first()
        ReceivedMessage.objects.create(
            organization=organization,
            received_at=now - timedelta(hours=hours),
            client_ip=ip,
            helo=helo,
            mail_from_domain=domain or "",
            tls_version=version or "",
            cipher=CIPHERS.get(version or "", ""),
            spf_result="pass" if authenticated else "fail",
            authenticated=authenticated,
            auth_reason=DEMO_REASON.format(domain=domain)
            if authenticated
            else "DEMO DATA: SPF fail and no DKIM signature",
        )
        recorded += 1
    services.tlsrpt_ingest(
        chunks=[json.dumps(demo_report(now)).encode()], kind="json", channel="file", now=now
    )
    services.outbound_refresh(now=now)
    services.outbound_coverage_record(now=now)
    return recorded
