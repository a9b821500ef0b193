"""Reads of the evidence room: outbound per organization, TLS report aggregates per domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from monitoring.evidence.models import (
    OutboundCoverage,
    ReceivedMessage,
    TlsReportFailure,
    TlsReportPolicy,
)
from monitoring.evidence.outbound import (
    LEGACY_TLS,
    OUTBOUND_WINDOW,
    PLAINTEXT,
    TLS,
    UNKNOWN,
    Gateway,
    outbound_verdict,
)
from partners.models import Organization


@dataclass(frozen=True, slots=True)
class OutboundSummary:
    outbound: str  # tls, legacy-tls, plaintext, unknown (outbound_verdict)
    gateways: tuple[Gateway, ...]  # authenticated: the ones that count
    unauthenticated: tuple[Gateway, ...]  # shown apart, with the reason; never counted

    @property
    def all_gateways(self) -> tuple[Gateway, ...]:
        return self.gateways + self.unauthenticated


UNKNOWN_SUMMARY = OutboundSummary(outbound="unknown", gateways=(), unauthenticated=())


def _gateway(message: ReceivedMessage) -> Gateway:
    return Gateway(
        ip=message.client_ip,
        helo=message.helo,
        mail_from_domain=message.mail_from_domain,
        tls_version=message.tls_version or None,
        cipher=message.cipher or None,
        seen_at=message.received_at,
        authenticated=message.authenticated,
        reason=message.auth_reason,
        spf_result=message.spf_result,
        dkim_result=message.dkim_result,
        dkim_domain=message.dkim_domain,
    )


def outbound_summaries(
    *, organization_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict[int, OutboundSummary]:
    """Outbound of many organizations in one query (organizations never seen are absent).

    A gateway is a client address. Its state is its latest authenticated message of the
    window (a fixed gateway stops counting as plain text once it sends over TLS); a gateway
    with no authenticated message is listed, by its latest message, as unauthenticated.
    """
    since = (now or timezone.now()) - OUTBOUND_WINDOW
    messages = ReceivedMessage.objects.filter(received_at__gte=since).order_by("-received_at")
    if organization_ids is not None:
        messages = messages.filter(organization_id__in=list(organization_ids))
    authenticated: dict[int, dict[str, Gateway]] = defaultdict(dict)
    other: dict[int, dict[str, Gateway]] = defaultdict(dict)
    for message in messages.iterator(chunk_size=2000):
        bucket = authenticated if message.authenticated else other
        bucket[message.organization_id].setdefault(message.client_ip, _gateway(message))
    summaries = {}
    for organization_id in set(authenticated) | set(other):
        counted = authenticated.get(organization_id, {})
        rest = [g for ip, g in other.get(organization_id, {}).items() if ip not in counted]
        summaries[organization_id] = OutboundSummary(
            outbound=outbound_verdict(counted.values()),
            gateways=tuple(sorted(counted.values(), key=lambda g: g.seen_at, reverse=True)),
            unauthenticated=tuple(sorted(rest, key=lambda g: g.seen_at, reverse=True)),
        )
    return summaries


def outbound_summary(*, organization: Organization, now: datetime | None = None) -> OutboundSummary:
    summaries = outbound_summaries(organization_ids=[organization.pk], now=now)
    return summaries.get(organization.pk, UNKNOWN_SUMMARY)


def outbound_export_rows(*, now: datetime | None = None) -> Iterable[dict[str, object]]:
    """One `export_outbound` object per organization, in name order."""
    summaries = outbound_summaries(now=now)
    for organization in Organization.objects.order_by("name").only("id", "name", "slug"):
        summary = summaries.get(organization.pk, UNKNOWN_SUMMARY)
        yield {
            "organization": organization.name,
            "slug": organization.slug,
            "outbound": summary.outbound,
            "gateways": [
                {
                    "ip": gateway.ip,
                    "helo": gateway.helo,
                    "tls_version": gateway.tls_version,
                    "cipher": gateway.cipher,
                    "seen_at": gateway.seen_at.isoformat(),
                    "authenticated": gateway.authenticated,
                    "reason": gateway.reason,
                }
                for gateway in summary.all_gateways
            ],
        }


@dataclass(slots=True)
class DomainReports:
    """What senders reported about one domain, aggregated over reports."""

    domain: str
    reports: int = 0
    successful: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    reporters: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "reports": self.reports,
            "successful": self.successful,
            "failed": self.failed,
            "failures": dict(sorted(self.failures.items())),
            "reporters": self.reporters,
        }


@dataclass(slots=True)
class ReportFigures:
    """One domain's figures in one TLS report: the largest among its entries."""

    domain_id: int
    domain: str
    reporter: str  # the report's organization-name
    successful: int = 0
    failed: int = 0
    failures: dict[Hashable, int] = field(default_factory=dict)  # failure_key -> sessions


def report_policies(
    *, days: int | None = None, domain_ids: Iterable[int] | None = None, now: datetime | None = None
) -> QuerySet[TlsReportPolicy]:
    """Report entries, of reports whose period ended within `days` and of `domain_ids` when
    given."""
    policies = TlsReportPolicy.objects.all()
    if days is not None:
        policies = policies.filter(
            report__end_at__gte=(now or timezone.now()) - timedelta(days=days)
        )
    if domain_ids is not None:
        policies = policies.filter(domain_id__in=list(domain_ids))
    return policies


def figures_per_report(
    policies: QuerySet[TlsReportPolicy], failure_key: Callable[[str, str], Hashable]
) -> list[ReportFigures]:
    """Each domain's figures in each report of `policies`, in two queries.

    Within one report a domain's `sts` and `tlsa` entries describe the same sessions, so a
    domain takes the largest figure among its entries of a report: successful, failed, and
    failures alike. Failures are counted per `failure_key(result_type, receiving MX)` within an
    entry before the largest is taken. Callers sum the figures over reports as they group them.
    """
    rows = policies.values_list(
        "id",
        "report_id",
        "domain_id",
        "domain__name",
        "report__organization_name",
        "successful",
        "failed",
    )
    per_report: dict[tuple[int, int], ReportFigures] = {}
    policy_key: dict[int, tuple[int, int]] = {}
    for policy_id, report_id, domain_id, domain, reporter, successful, failed in rows.iterator(
        2000
    ):
        key = (domain_id, report_id)
        policy_key[policy_id] = key
        figures = per_report.setdefault(key, ReportFigures(domain_id, domain, reporter))
        figures.successful = max(figures.successful, successful)
        figures.failed = max(figures.failed, failed)
    by_policy: dict[tuple[int, Hashable], int] = defaultdict(int)
    failures = TlsReportFailure.objects.filter(policy__in=policies).values_list(
        "policy_id", "result_type", "receiving_mx_hostname", "count"
    )
    for policy_id, result_type, mx_host, count in failures.iterator(2000):
        by_policy[(policy_id, failure_key(result_type, mx_host))] += count
    for (policy_id, key), count in by_policy.items():
        found = per_report[policy_key[policy_id]].failures
        found[key] = max(found.get(key, 0), count)
    return list(per_report.values())


def tlsrpt_by_domain(*, days: int | None = None) -> list[DomainReports]:
    """TLS report figures per registry domain with reports, in domain order: each report's
    figures (figures_per_report, failures per result type) summed over reports. `days` keeps
    reports whose period ended within that many days."""
    policies = report_policies(days=days)
    domains: dict[str, DomainReports] = {}
    reporters: dict[str, set[str]] = defaultdict(set)
    for figures in figures_per_report(policies, lambda result_type, _mx_host: result_type):
        aggregate = domains.setdefault(figures.domain, DomainReports(domain=figures.domain))
        reporters[figures.domain].add(figures.reporter)
        aggregate.reports += 1
        aggregate.successful += figures.successful
        aggregate.failed += figures.failed
        for result_type, count in figures.failures.items():
            aggregate.failures[result_type] = aggregate.failures.get(result_type, 0) + count
    for domain, aggregate in domains.items():
        aggregate.reporters = sorted(reporters[domain])
    return [domains[name] for name in sorted(domains)]


# -- outbound coverage for the staff overview --------------------------------------------------


def outbound_coverage() -> OutboundCoverage:
    """Active organizations per stored outbound verdict, in one query (an unsaved snapshot)."""
    counts: dict[str, int] = defaultdict(int)
    for outbound, n in (
        Organization.objects.filter(active=True)
        .values("status__outbound")
        .annotate(n=Count("pk"))
        .values_list("status__outbound", "n")
        .order_by()
    ):
        counts[outbound or UNKNOWN] += n
    return OutboundCoverage(
        tls=counts[TLS],
        legacy_tls=counts[LEGACY_TLS],
        plaintext=counts[PLAINTEXT],
        unknown=counts[UNKNOWN],
    )


def outbound_coverage_trend(*, points: int = 60) -> list[OutboundCoverage]:
    """The daily snapshots of outbound coverage, oldest first (one query)."""
    return list(reversed(OutboundCoverage.objects.order_by("-day")[:points]))


# -- new TLS report failures for digests ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportedFailure:
    domain: str
    reporter: str
    result_type: str
    count: int
    received_at: datetime


def reported_failures(
    *, organization_ids: Iterable[int], since: datetime
) -> dict[int, list[ReportedFailure]]:
    """Failures senders reported in TLS reports received after `since`, per organization,
    largest first (one query). Within a report the largest count per type and domain counts,
    since a domain's sts and tlsa entries describe the same sessions."""
    found: dict[tuple[int, str, int, str], ReportedFailure] = {}
    for org_id, domain, report_id, reporter, received_at, result_type, count in (
        TlsReportFailure.objects.filter(
            policy__domain__organization_id__in=list(organization_ids),
            policy__report__received_at__gt=since,
        )
        .values_list(
            "policy__domain__organization_id",
            "policy__domain__name",
            "policy__report_id",
            "policy__report__organization_name",
            "policy__report__received_at",
            "result_type",
            "count",
        )
        .iterator(chunk_size=2000)
    ):
        key = (report_id, domain, org_id, result_type)
        previous = found.get(key)
        if previous is None or previous.count < count:
            found[key] = ReportedFailure(domain, reporter, result_type, count, received_at)
    by_organization: dict[int, list[ReportedFailure]] = defaultdict(list)
    for (_report_id, _domain, org_id, _result_type), failure in found.items():
        by_organization[org_id].append(failure)
    for failures in by_organization.values():
        failures.sort(key=lambda failure: (-failure.count, failure.domain, failure.result_type))
    return dict(by_organization)
