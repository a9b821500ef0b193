"""Writes of the evidence room: test addresses, observed messages, SMTP TLS reports."""

from __future__ import annotations

import base64
import dataclasses
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from monitoring.evidence import tlsrpt
from monitoring.evidence.auth import (
    AuthDns,
    DkimOutcome,
    authentication,
    check_dkim,
    check_spf,
    mail_from_domain,
)
from monitoring.evidence.models import (
    OutboundAddress,
    OutboundCoverage,
    ReceivedMessage,
    TlsReport,
    TlsReportFailure,
    TlsReportPolicy,
)
from monitoring.evidence.outbound import UNKNOWN
from monitoring.evidence.selectors import UNKNOWN_SUMMARY, outbound_coverage, outbound_summaries
from monitoring.models import OrganizationStatus
from partners.domains import InvalidDomain, normalize_domain
from partners.models import MailDomain, Organization
from secmail.security.throttle import over_limit

log = logging.getLogger(__name__)

TLSRPT_LOCAL_PART = "tlsrpt"


class ReceiverNotConfigured(RuntimeError):
    pass


def receiver_domain() -> str:
    domain = settings.SECMAIL_RECEIVER_DOMAIN
    if not domain:
        raise ReceiverNotConfigured(
            "SECMAIL_RECEIVER_DOMAIN is not set: the mail domain of secmail's receiver"
        )
    return domain


def tlsrpt_address() -> str | None:
    """Where domains send their TLS reports to reach secmail (None: no receiver configured)."""
    domain = settings.SECMAIL_RECEIVER_DOMAIN
    return f"{TLSRPT_LOCAL_PART}@{domain}" if domain else None


def auth_dns() -> AuthDns:
    """SPF and DKIM resolve through the probe's resolvers (SECMAIL_DNS_RESOLVERS)."""
    return AuthDns(settings.SECMAIL_DNS_RESOLVERS)


def _new_token() -> str:
    # 120 random bits, lowercase base32: survives mail systems that change the case.
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def outbound_address_get(*, organization: Organization) -> OutboundAddress:
    """The organization's test address, made on first use; its token never changes."""
    existing = OutboundAddress.objects.filter(organization=organization).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return OutboundAddress.objects.create(organization=organization, token=_new_token())
    except IntegrityError:
        # Another process made it first (or, once in 2**120, the token was taken): reuse it.
        return OutboundAddress.objects.get(organization=organization)


def outbound_address_text(*, organization: Organization) -> str:
    return f"{outbound_address_get(organization=organization).token}@{receiver_domain()}"


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: str  # "organization" or "tlsrpt"
    organization_id: int | None = None


def recipient_resolve(*, address: str, domain: str) -> Recipient | None:
    """Who an envelope recipient is at the receiver; None for anyone unknown (550)."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or host.lower().rstrip(".") != domain:
        return None
    local = local.lower()
    if local == TLSRPT_LOCAL_PART:
        return Recipient(kind="tlsrpt")
    if not local.isalnum() or len(local) > 40:
        return None
    organization_id = (
        OutboundAddress.objects.filter(token=local, organization__active=True)
        .values_list("organization_id", flat=True)
        .first()
    )
    return None if organization_id is None else Recipient("organization", organization_id)


def message_record(
    *,
    organization_ids: Sequence[int],
    client_ip: str,
    helo: str,
    mail_from: str | None,
    tls_version: str | None,
    cipher: str | None,
    message: bytes,
    resolver: AuthDns,
    received_at: datetime | None = None,
) -> list[ReceivedMessage]:
    """Check SPF and DKIM of one message once, and record how it arrived for each organization
    whose test address it was sent to, authenticated or not by that organization's domains.

    The message itself is only read for its DKIM signatures and then dropped.
    """
    spf_outcome = check_spf(ip=client_ip, mail_from=mail_from, helo=helo, resolver=resolver)
    dkim_outcome = check_dkim(message=message, resolver=resolver)
    registered: dict[int, list[str]] = defaultdict(list)
    for organization_id, name in MailDomain.objects.filter(
        organization_id__in=list(organization_ids)
    ).values_list("organization_id", "name"):
        registered[organization_id].append(name)
    received_at = received_at or timezone.now()
    recorded = []
    for organization_id in organization_ids:
        authenticated, reason = authentication(
            spf_outcome=spf_outcome,
            dkim_outcome=dkim_outcome,
            registered=registered[organization_id],
        )
        recorded.append(
            ReceivedMessage.objects.create(
                organization_id=organization_id,
                received_at=received_at,
                client_ip=client_ip,
                helo=helo[:255],
                mail_from_domain=mail_from_domain(mail_from)[:253],
                tls_version=tls_version or "",
                cipher=(cipher or "")[:100] if tls_version else "",
                spf_result=spf_outcome.result[:16],
                dkim_result=dkim_outcome.result,
                dkim_domain=dkim_outcome.domain[:253],
                authenticated=authenticated,
                auth_reason=reason[:300],
            )
        )
    outbound_refresh(organization_ids=organization_ids)
    return recorded


def outbound_refresh(
    *, organization_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Store each organization's outbound verdict where the matrix reads it; returns how many
    changed. After every recorded message for its organization, and daily for all, since
    gateways leave the 30-day window without any new message."""
    summaries = outbound_summaries(organization_ids=organization_ids, now=now)
    organizations = Organization.objects.all()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=list(organization_ids))
    current = dict(organizations.values_list("pk", "status__outbound"))
    moved = []
    for organization_id, stored in current.items():
        outbound = summaries.get(organization_id, UNKNOWN_SUMMARY).outbound
        if (stored or UNKNOWN) != outbound or stored is None:
            moved.append(OrganizationStatus(organization_id=organization_id, outbound=outbound))
    OrganizationStatus.objects.bulk_create(
        moved,
        update_conflicts=True,
        unique_fields=["organization"],
        update_fields=["outbound"],
        batch_size=1000,
    )
    return len(moved)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    status: str  # "stored" or "duplicate" (already stored: accepted and ignored)
    organization_name: str
    report_id: str
    domains: tuple[str, ...]  # registry domains kept
    ignored_domains: tuple[str, ...]  # policy domains not in the registry

    @property
    def message(self) -> str:
        who = f"report {self.report_id!r} from {self.organization_name!r}"
        if self.status == "duplicate":
            return f"{who} was already stored; ignored"
        kept = ", ".join(self.domains)
        return f"{who} stored for {kept}"


def _registry_name(domain: str) -> str:
    try:
        return normalize_domain(domain)
    except InvalidDomain:
        return domain


def tlsrpt_ingest(
    *,
    chunks: Iterable[bytes],
    kind: str,
    channel: str,
    source: str = "",
    dkim_outcome: DkimOutcome | None = None,
    now: datetime | None = None,
) -> IngestOutcome:
    """Validate one TLS report and store it once; ReportRejected (nothing stored) otherwise.

    Every channel (mail, HTTPS POST, file import) comes through here. Only policies whose
    domain is in the registry are kept; a report with none of them is rejected.
    """
    now = now or timezone.now()
    report = tlsrpt.parse_report(chunks, kind, now=now)
    names = {
        policy.policy_domain: _registry_name(policy.policy_domain) for policy in report.policies
    }
    wanted = set(names.values())
    registry = dict(MailDomain.objects.filter(name__in=wanted).values_list("name", "id"))
    kept = [p for p in report.policies if names[p.policy_domain] in registry]
    ignored = sorted(wanted - set(registry))
    if not kept:
        listed = ", ".join(ignored[:5]) + (" …" if len(ignored) > 5 else "")
        raise tlsrpt.ReportRejected(f"no policy domain of the report is registered here ({listed})")
    outcome = IngestOutcome(
        status="stored",
        organization_name=report.organization_name,
        report_id=report.report_id,
        domains=tuple(sorted(registry)),  # every registry name found has a kept policy
        ignored_domains=tuple(ignored),
    )
    duplicate = dataclasses.replace(outcome, status="duplicate")
    if TlsReport.objects.filter(
        organization_name=report.organization_name, report_id=report.report_id
    ).exists():
        return duplicate
    try:
        with transaction.atomic():
            _store(report, kept, registry, names, channel, source, dkim_outcome, now)
    except IntegrityError:
        return duplicate  # the same report arrived twice at once: the other one stored it
    return outcome


def _store(
    report: tlsrpt.Report,
    kept: list[tlsrpt.Policy],
    registry: dict[str, int],
    names: dict[str, str],
    channel: str,
    source: str,
    dkim_outcome: DkimOutcome | None,
    now: datetime,
) -> TlsReport:
    stored = TlsReport.objects.create(
        organization_name=report.organization_name,
        report_id=report.report_id,
        contact_info=report.contact_info,
        start_at=report.start,
        end_at=report.end,
        channel=channel,
        received_at=now,
        source=source[:255],
        dkim_result=dkim_outcome.result if dkim_outcome else "",
        dkim_domain=dkim_outcome.domain[:253] if dkim_outcome else "",
    )
    rows = TlsReportPolicy.objects.bulk_create(
        TlsReportPolicy(
            report=stored,
            domain_id=registry[names[policy.policy_domain]],
            policy_type=policy.policy_type,
            policy_string=list(policy.policy_string),
            mx_host=list(policy.mx_host),
            successful=policy.successful,
            failed=policy.failed,
        )
        for policy in kept
    )
    TlsReportFailure.objects.bulk_create(
        TlsReportFailure(
            policy=row,
            result_type=failure.result_type,
            sending_mta_ip=failure.sending_mta_ip,
            receiving_mx_hostname=failure.receiving_mx_hostname[:255],
            receiving_mx_helo=failure.receiving_mx_helo[:255],
            receiving_ip=failure.receiving_ip,
            count=failure.count,
            failure_reason_code=failure.failure_reason_code[:255],
            additional_information=failure.additional_information[:1000],
        )
        for row, policy in zip(rows, kept, strict=True)
        for failure in policy.failures
    )
    return stored


def tlsrpt_ingest_message(
    *, message: bytes, source: str, resolver: AuthDns, now: datetime | None = None
) -> IngestOutcome:
    """A report that came by mail: find its part, check DKIM, then the common ingest."""
    parts = tlsrpt.report_parts(message)
    if not parts:
        raise tlsrpt.ReportRejected(
            "no application/tlsrpt+gzip or application/tlsrpt+json part in the message"
        )
    if len(parts) > 1:
        raise tlsrpt.ReportRejected("more than one report in one message")
    kind, payload = parts[0]
    dkim_outcome = check_dkim(message=message, resolver=resolver)
    return tlsrpt_ingest(
        chunks=(payload,),
        kind=kind,
        channel=TlsReport.Channel.MAIL,
        source=source,
        dkim_outcome=dkim_outcome,
        now=now,
    )


class DatabaseBackend:
    """The receiver's storage: these services, each call on a fresh database connection.

    The calls run in the receiver's worker threads; closing the thread's connection after each
    call means no connection outlives a database restart and none is left behind at exit.
    """

    def __init__(self, resolver: AuthDns | None = None) -> None:
        self.resolver = resolver or auth_dns()
        self.domain = receiver_domain()

    def resolve(self, address: str) -> Recipient | None:
        try:
            return recipient_resolve(address=address, domain=self.domain)
        finally:
            connections.close_all()

    def record(
        self,
        *,
        organization_ids: list[int],
        client_ip: str,
        helo: str,
        mail_from: str | None,
        tls_version: str | None,
        cipher: str | None,
        message: bytes,
    ) -> None:
        try:
            message_record(
                organization_ids=organization_ids,
                client_ip=client_ip,
                helo=helo,
                mail_from=mail_from,
                tls_version=tls_version,
                cipher=cipher,
                message=message,
                resolver=self.resolver,
            )
        finally:
            connections.close_all()

    def ingest_report(self, *, message: bytes, source: str) -> IngestOutcome:
        try:
            return tlsrpt_ingest_message(message=message, source=source, resolver=self.resolver)
        finally:
            connections.close_all()


def tlsrpt_post_allowed(*, client: str, now: float | None = None) -> bool:
    """Count one POST /tlsrpt/ from `client`; False once it is over its hourly allowance.

    The endpoint takes reports from anyone, so each client address gets
    SECMAIL_TLSRPT_POSTS_PER_HOUR posts per clock hour (shared by every web process through
    the cache when REDIS_URL is set).
    """
    limit = settings.SECMAIL_TLSRPT_POSTS_PER_HOUR
    return not over_limit("tlsrpt-post", client, limit=limit, window=3600, now=now)


def outbound_coverage_record(*, now: datetime | None = None) -> OutboundCoverage:
    """Today's snapshot of outbound coverage (kept once per day; a later call updates it)."""
    coverage = outbound_coverage()
    fields = ("tls", "legacy_tls", "plaintext", "unknown")
    snapshot, _ = OutboundCoverage.objects.update_or_create(
        day=timezone.localdate(now or timezone.now()),
        defaults={field: getattr(coverage, field) for field in fields},
    )
    return snapshot
