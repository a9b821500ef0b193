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
from datetime import datetime

from monitoring.evidence.selectors import figures_per_report, report_policies
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


def _at_mx(result_type: str, mx_host: str) -> tuple[str, str]:
    return result_type, mx_host.lower().rstrip(".")


def reports_beside_probes(
    *,
    statuses: Sequence[DomainStatus],
    observations: dict[int, list[HostObservation]],
    days: int = REPORT_DAYS,
    now: datetime | None = None,
) -> dict[int, DomainEvidence]:
    """Per domain (id) with reports in the last `days`: each sender's figures and failures,
    each failure marked explained or not by the probe's facts. Two queries.

    Each report's figures come from figures_per_report, failures per result type and receiving
    MX (the same rule as export_tlsrpt); reports of one sender are then summed.
    """
    by_domain = {status.domain_id: status for status in statuses if status.domain_id}
    policies = report_policies(days=days, domain_ids=list(by_domain), now=now)
    found: dict[int, dict[str, ReporterFigures]] = defaultdict(dict)
    failure_totals: dict[tuple[int, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for report in figures_per_report(policies, _at_mx):
        figures = found[report.domain_id].setdefault(
            report.reporter, ReporterFigures(report.reporter)
        )
        figures.reports += 1
        figures.successful += report.successful
        figures.failed += report.failed
        totals = failure_totals[(report.domain_id, report.reporter)]
        for key, count in report.failures.items():
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
