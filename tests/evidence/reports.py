"""SMTP TLS reports shaped like those large senders send, and the figures they must give."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from tests.evidence.conftest import ALPHA, CHARLIE

DAY = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def _range(day: datetime = DAY) -> dict[str, str]:
    end = day + timedelta(days=1) - timedelta(seconds=1)
    return {
        "start-datetime": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end-datetime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def google_report(day: datetime = DAY) -> dict[str, Any]:
    """Google's shape: mx-host as a list, policy-string as lines, sts and tlsa for one domain."""
    stamp = day.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "organization-name": "Google Inc.",
        "date-range": _range(day),
        "contact-info": "smtp-tls-reporting@google.com",
        "report-id": f"{stamp}_{ALPHA}",
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": [
                        "version: STSv1",
                        "mode: enforce",
                        f"mx: mx1.{ALPHA}",
                        f"mx: mx2.{ALPHA}",
                        "max_age: 604800",
                    ],
                    "policy-domain": ALPHA,
                    "mx-host": [f"mx1.{ALPHA}", f"mx2.{ALPHA}"],
                },
                "summary": {
                    "total-successful-session-count": 2310,
                    "total-failure-session-count": 12,
                },
                "failure-details": [
                    {
                        "result-type": "certificate-expired",
                        "sending-mta-ip": "209.85.220.41",
                        "receiving-mx-hostname": f"mx2.{ALPHA}",
                        "receiving-ip": "192.0.2.25",
                        "failed-session-count": 12,
                    }
                ],
            },
            {
                "policy": {
                    "policy-type": "tlsa",
                    "policy-string": [
                        "3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
                    ],
                    "policy-domain": ALPHA,
                    "mx-host": [f"mx1.{ALPHA}"],
                },
                "summary": {
                    "total-successful-session-count": 2300,
                    "total-failure-session-count": 14,
                },
                "failure-details": [
                    {
                        "result-type": "tlsa-invalid",
                        "sending-mta-ip": "209.85.220.41",
                        "receiving-mx-hostname": f"mx1.{ALPHA}",
                        "receiving-ip": "2001:db8::25",
                        "failed-session-count": 10,
                    },
                    {
                        "result-type": "dnssec-invalid",
                        "sending-mta-ip": "2607:f8b0:4864:20::a41",
                        "receiving-mx-hostname": f"mx1.{ALPHA}",
                        "failed-session-count": 4,
                    },
                ],
            },
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": CHARLIE},
                "summary": {
                    "total-successful-session-count": 500,
                    "total-failure-session-count": 3,
                },
                "failure-details": [
                    {
                        "result-type": "starttls-not-supported",
                        "sending-mta-ip": "209.85.220.69",
                        "receiving-mx-hostname": f"mail.{CHARLIE}",
                        "receiving-ip": "192.0.2.26",
                        "failed-session-count": 3,
                    }
                ],
            },
            {
                # Not in the registry: dropped on ingest.
                "policy": {
                    "policy-type": "no-policy-found",
                    "policy-domain": "unregistered.example",
                },
                "summary": {
                    "total-successful-session-count": 7,
                    "total-failure-session-count": 0,
                },
            },
        ],
    }


def microsoft_report(day: datetime = DAY) -> dict[str, Any]:
    """Microsoft's shape: the policy as one string in a list, mx-host a string, failure
    details without address fields, and a failure-reason-code."""
    return {
        "organization-name": "Microsoft Corporation",
        "date-range": _range(day),
        "contact-info": "tlsrpt-noreply@microsoft.com",
        "report-id": f"133{int(day.timestamp())}+{ALPHA}",
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": [
                        f"version: STSv1\r\nmode: testing\r\nmx: *.{ALPHA}\r\nmax_age: 86400"
                    ],
                    "policy-domain": ALPHA,
                    "mx-host": f"*.{ALPHA}",
                },
                "summary": {
                    "total-successful-session-count": 1000,
                    "total-failure-session-count": 20,
                },
                "failure-details": [
                    {"result-type": "sts-policy-fetch-error", "failed-session-count": 5},
                    {"result-type": "sts-policy-invalid", "failed-session-count": 5},
                    {"result-type": "sts-webpki-invalid", "failed-session-count": 5},
                    {
                        "result-type": "certificate-host-mismatch",
                        "failed-session-count": 5,
                        "receiving-mx-hostname": f"mx1.{ALPHA}",
                        "failure-reason-code": "CertificateNameMismatch",
                    },
                ],
            },
            {
                "policy": {
                    "policy-type": "tlsa",
                    "policy-string": ["3 1 1 ABCDEF"],
                    "policy-domain": CHARLIE.upper() + ".",
                },
                "summary": {
                    "total-successful-session-count": 40,
                    "total-failure-session-count": 5,
                },
                "failure-details": [{"result-type": "dane-required", "failed-session-count": 5}],
            },
            {
                "policy": {"policy-type": "sts", "policy-domain": CHARLIE},
                "summary": {
                    "total-successful-session-count": 38,
                    "total-failure-session-count": 10,
                },
                "failure-details": [
                    {"result-type": "certificate-not-trusted", "failed-session-count": 4},
                    {"result-type": "certificate-not-trusted", "failed-session-count": 3},
                    {"result-type": "validation-failure", "failed-session-count": 3},
                ],
            },
        ],
    }


# What export_tlsrpt must print for google_report() + microsoft_report(), worked out by hand:
# within a report a domain takes its largest entry (per figure and per result type), then
# reports are summed.
EXPECTED = [
    {
        "domain": ALPHA,
        "reports": 2,
        "successful": 2310 + 1000,
        "failed": 14 + 20,
        "failures": {
            "certificate-expired": 12,
            "certificate-host-mismatch": 5,
            "dnssec-invalid": 4,
            "sts-policy-fetch-error": 5,
            "sts-policy-invalid": 5,
            "sts-webpki-invalid": 5,
            "tlsa-invalid": 10,
        },
        "reporters": ["Google Inc.", "Microsoft Corporation"],
    },
    {
        "domain": CHARLIE,
        "reports": 2,
        "successful": 500 + 40,
        "failed": 3 + 10,
        "failures": {
            "certificate-not-trusted": 7,
            "dane-required": 5,
            "starttls-not-supported": 3,
            "validation-failure": 3,
        },
        "reporters": ["Google Inc.", "Microsoft Corporation"],
    },
]


def as_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report).encode()


def as_gzip(report: dict[str, Any]) -> bytes:
    return gzip.compress(as_json(report))


def as_mail(payload: bytes, *, gzipped: bool = True, sender: str = "Google Inc.") -> bytes:
    """A multipart/report message the way senders mail reports (RFC 8460 §5.3)."""
    mail = EmailMessage()
    mail["From"] = f"{sender} <noreply-smtp-tls-reporting@other.evidence.lab.test>"
    mail["To"] = "tlsrpt@receiver.lab.test"
    mail["Subject"] = f"Report Domain: {ALPHA} Submitter: {sender} Report-ID: <x>"
    mail["TLS-Report-Domain"] = ALPHA
    mail["TLS-Report-Submitter"] = sender
    mail.set_content("This is an aggregate TLS report.")
    subtype = "tlsrpt+gzip" if gzipped else "tlsrpt+json"
    mail.add_attachment(payload, maintype="application", subtype=subtype, filename="report.json.gz")
    mail.replace_header(
        "Content-Type",
        'multipart/report; report-type="tlsrpt"; ' + f'boundary="{mail.get_boundary()}"',
    )
    return mail.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
