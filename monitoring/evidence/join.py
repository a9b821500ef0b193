"""TLS reports beside the probe's own facts: what senders saw, and which failures it explains.

A failure type a sender reported is *explained* when the probe's stored facts for the domain
show the same kind of problem (an expired certificate for `certificate-expired`, an invalid
MTA-STS policy for `sts-policy-fetch-error`, ...). A failure the probe does not explain is
worth a look: the sender saw something the probe did not (an MX address it cannot reach, a
certificate served to some clients only, a policy host that fails now and then).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.evidence.models import TlsReportFailure, TlsReportPolicy
from monitoring.models import DomainStatus, HostObservation

REPORT_DAYS = 30

# What in the probe's facts explains each result type of RFC 8460 §4.3.
_CERTIFICATE_ERRORS = {
    "certificate-host-mismatch": {"hostname-mismatch"},
    "certificate-expired": {"expired", "not-yet-valid"},
    "certificate-not-trusted": {"untrusted", "self-signed", "incomplete-chain", "invalid-chain"},
}
_NO_STARTTLS = {
    "starttls-not-offered",
    "starttls-rejected",
    "tls-handshake-failed",
    "tls-legacy-only",
    "ehlo-rejected",
}
_DANE_TYPES = {"tlsa-invalid", "dnssec-invalid", "dane-required"}
_STS_TYPES = {"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"}


def _certificate_errors(observations: Iterable[HostObservation], mx_host: str) -> set[str]:
    return {
        error
        for observation in observations
        if not mx_host or observation.host == mx_host
        for error in observation.cert_errors or []
    }


def explained(
    result_type: str,
    status: DomainStatus,
    observations: Sequence[HostObservation],
    mx_host: str = "",
) -> bool:
    """Whether the probe's facts for the domain (at `mx_host`, when the report names it)
    show the problem a sender reported as `result_type`."""
    if result_type in _CERTIFICATE_ERRORS:
        return bool(_certificate_errors(observations, mx_host) & _CERTIFICATE_ERRORS[result_type])
    if result_type == "validation-failure":
        return bool(_certificate_errors(observations, mx_host))
    if result_type == "starttls-not-supported":
        return any(
            (observation.error or "") in _NO_STARTTLS
            for observation in observations
            if not mx_host or observation.host == mx_host
        )
    if result_type in _DANE_TYPES:
        return status.dane_valid is False or "dane-mismatch" in (status.warnings or [])
    if result_type in _STS_TYPES:
        return status.mta_sts_valid is False or "mta-sts-invalid" in (status.warnings or [])
    return False


@dataclass(frozen=True, slots=True)
class FailureLine:
    result_type: str
    mx_host: str
    count: int
    explained: bool


@dataclass(slots=True)
class ReporterFigures:
    """What one sender (the report's organization-name) saw of one domain."""

    reporter: str
    reports: int = 0
    successful: int = 0
    failed: int = 0
    failures: list[FailureLine] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return self.successful + self.failed


@dataclass(frozen=True, slots=True)
class DomainEvidence:
    reporters: tuple[ReporterFigures, ...]

    @property
    def worth_a_look(self) -> tuple[FailureLine, ...]:
        return tuple(
            line for figures in self.reporters for line in figures.failures if not line.explained
        )


def reports_beside_probes(
    *,
    statuses: Sequence[DomainStatus],
    observations: dict[int, list[HostObservation]],
    days: int = REPORT_DAYS,
    now: datetime | None = None,
) -> dict[int, DomainEvidence]:
    """Per domain (id) with reports in the last `days`: each sender's figures and failures,
    each failure marked explained or not by the probe's facts. Two queries.

    Within one report a domain's `sts` and `tlsa` entries describe the same sessions, so a
    report counts the largest figure among its entries (as tlsrpt_by_domain does); reports of
    one sender are then summed.
    """
    by_domain = {status.domain_id: status for status in statuses if status.domain_id}
    since = (now or timezone.now()) - timedelta(days=days)
    policies = TlsReportPolicy.objects.filter(
        domain_id__in=list(by_domain), report__end_at__gte=since
    )
    # (domain, report) -> figures of the report: the largest among its entries.
    per_report: dict[tuple[int, int], list[int]] = {}
    reporter_of: dict[int, str] = {}
    policy_key: dict[int, tuple[int, int]] = {}
    for policy_id, domain_id, report_id, reporter, successful, failed in policies.values_list(
        "pk", "domain_id", "report_id", "report__organization_name", "successful", "failed"
    ):
        key = (domain_id, report_id)
        policy_key[policy_id] = key
        reporter_of[report_id] = reporter
        figures = per_report.setdefault(key, [0, 0])
        figures[0], figures[1] = max(figures[0], successful), max(figures[1], failed)
    per_report_failures: dict[tuple[int, int], dict[tuple[str, str], int]] = defaultdict(dict)
    by_policy: dict[tuple[int, str, str], int] = defaultdict(int)
    for policy_id, result_type, mx_host, count in TlsReportFailure.objects.filter(
        policy__in=policies
    ).values_list("policy_id", "result_type", "receiving_mx_hostname", "count"):
        by_policy[(policy_id, result_type, mx_host.lower().rstrip("."))] += count
    for (policy_id, result_type, mx_host), count in by_policy.items():
        failures = per_report_failures[policy_key[policy_id]]
        failures[(result_type, mx_host)] = max(failures.get((result_type, mx_host), 0), count)
    found: dict[int, dict[str, ReporterFigures]] = defaultdict(dict)
    failure_totals: dict[tuple[int, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for (domain_id, report_id), (successful, failed) in per_report.items():
        reporter = reporter_of[report_id]
        figures = found[domain_id].setdefault(reporter, ReporterFigures(reporter))
        figures.reports += 1
        figures.successful += successful
        figures.failed += failed
        totals = failure_totals[(domain_id, reporter)]
        for key, count in per_report_failures.get((domain_id, report_id), {}).items():
            totals[key] = totals.get(key, 0) + count
    for (domain_id, reporter), totals in failure_totals.items():
        status, seen = by_domain[domain_id], observations.get(domain_id, [])
        found[domain_id][reporter].failures = [
            FailureLine(result_type, mx_host, count, explained(result_type, status, seen, mx_host))
            for (result_type, mx_host), count in sorted(totals.items(), key=lambda i: -i[1])
        ]
    return {
        domain_id: DomainEvidence(
            tuple(sorted(reporters.values(), key=lambda f: (-f.sessions, f.reporter)))
        )
        for domain_id, reporters in found.items()
    }
