"""Reads behind the API: what a user may see, shaped as the API answers it.

Every read goes through partners.access, the same functions the pages use, so a token sees
exactly what its user sees there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from monitoring import levels, selectors
from monitoring.dashboard import selectors as reads
from monitoring.explanations import selectors as explanations
from monitoring.models import DomainStatus, HostObservation, StatusChange
from monitoring.probe.model import (
    AddressResult,
    CertificateInfo,
    DaneResult,
    DomainResult,
    MtaStsResult,
    MxResult,
    TlsRptResult,
)
from partners.access import (
    User,
    get_visible_organization,
    is_member,
    member_organizations,
    visible_organizations,
    visible_pairs,
)
from partners.models import MailDomain, Partnership

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Page:
    """One page of a list; `items` are JSON-ready dictionaries."""

    count: int
    page: int
    pages: int
    items: list[dict[str, Any]]


def _bounds(count: int, page: int, per_page: int) -> tuple[int, int, int, int]:
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    pages = max(1, -(-count // per_page))
    page = max(1, page)
    start = (page - 1) * per_page
    return page, pages, start, start + per_page


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _level(value: Any) -> str | None:
    found = levels.as_level(value)
    return str(found) if found is not None else None


# -- organizations ---------------------------------------------------------------------------


def _summary_json(summary: reads.OrganizationSummary, *, member: bool) -> dict[str, Any]:
    return {
        "slug": summary.slug,
        "name": summary.name,
        "kind": summary.kind,
        "province": summary.province,
        "level": _level(summary.level),
        "warnings": list(summary.warnings),
        "checked_at": _iso(summary.checked_at),
        "member": member,
        "outbound": summary.outbound,
    }


def _stated(explanation: Any) -> dict[str, Any] | None:
    if explanation is None or not explanation.text:
        return None
    return {
        "kind": explanation.kind,
        "text": explanation.text,
        "target_date": explanation.target_date.isoformat() if explanation.target_date else None,
        "created": _iso(explanation.created),
    }


def organization_page(*, viewer: User, page: int = 1, per_page: int = 100) -> Page:
    """The organizations the viewer may see (own and partners), by name then id."""
    organizations = visible_organizations(viewer).order_by("name", "pk")
    count = organizations.count()
    page, pages, start, end = _bounds(count, page, per_page)
    ids = list(organizations.values_list("pk", flat=True)[start:end])
    summaries = {s.id: s for s in reads.organization_summaries(organization_ids=ids)}
    own = set(member_organizations(viewer).filter(pk__in=ids).values_list("pk", flat=True))
    items = [_summary_json(summaries[pk], member=pk in own) for pk in ids]
    return Page(count=count, page=page, pages=pages, items=items)


def organization_detail(*, viewer: User, slug: str) -> dict[str, Any]:
    """One organization with its domains' levels (Http404 when the viewer may not see it)."""
    organization = get_visible_organization(viewer, slug)
    (summary,) = reads.organization_summaries(organization_ids=[organization.pk])
    member = is_member(viewer, organization)
    found = _summary_json(summary, member=member)
    found["domains"] = [
        {
            "domain": status.domain.name,
            "active": status.domain.active,
            "level": _level(status.level),
            "warnings": list(status.warnings),
            "checked_at": _iso(status.checked_at),
            "since": _iso(status.since),
        }
        for status in selectors.organization_domains(organization=organization)
    ]
    current = explanations.current_explanation(organization.pk)
    found["explanation"] = _stated(current.explanation)
    found["exception"] = _stated(current.exception)
    return found


# -- one domain in the probe's JSON shape ------------------------------------------------------


def _certificate(observation: HostObservation, at: datetime) -> CertificateInfo | None:
    certificate = observation.certificate
    if certificate is None:
        return None
    return CertificateInfo(
        subject=certificate.subject,
        san=tuple(certificate.san or ()),
        issuer=certificate.issuer,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        days_left=(certificate.not_after - at).days,
        trusted=bool(observation.cert_trusted),
        hostname_match=bool(observation.cert_hostname_match),
        self_signed=certificate.self_signed,
        expired=certificate.not_after < at,
        key=certificate.key,
        signature_algorithm=certificate.signature_algorithm,
        sha256=certificate.sha256,
        errors=tuple(observation.cert_errors or ()),
    )


def _address(observation: HostObservation | None, ip: str, at: datetime) -> AddressResult:
    if observation is None:  # pruned with old observations: nothing is known any more
        return AddressResult(ip=ip or None, tested=False, starttls=False)
    return AddressResult(
        ip=observation.ip or None,
        tested=observation.tested,
        starttls=observation.starttls,
        tls_version=observation.tls_version or None,
        cipher=observation.cipher or None,
        error=observation.error or None,
        smtp_reply=observation.smtp_reply or None,
        extensions=tuple(observation.extensions or ()),
        certificate=_certificate(observation, at),
        dane_match=observation.dane_match,
    )


def _domain_result(status: DomainStatus, observations: list[HostObservation]) -> DomainResult:
    """The stored verdict rebuilt as the probe's DomainResult, so its to_json gives the shape."""
    at = status.checked_at or timezone.now()
    by_key = {(o.host, o.ip): o for o in observations}
    mx = tuple(
        MxResult(
            host=entry["host"],
            preference=entry.get("preference", 0),
            implicit=entry.get("implicit", False),
            error=entry.get("error") or None,
            addresses=tuple(
                _address(by_key.get((entry["host"], ip)), ip, at) for ip in entry["addresses"]
            ),
        )
        for entry in status.mx
    )
    return DomainResult(
        domain=status.domain.name,
        level=levels.Level(status.level),
        checked_at=at,
        warnings=tuple(status.warnings),
        mx=mx,
        mta_sts=MtaStsResult(
            mode=status.mta_sts_mode or None,
            valid=status.mta_sts_valid,
            errors=tuple(status.mta_sts_errors or ()),
        ),
        dane=DaneResult(tlsa=status.dane_tlsa, dnssec=status.dane_dnssec, valid=status.dane_valid),
        tls_rpt=TlsRptResult(present=status.tls_rpt_present, rua=tuple(status.tls_rpt_rua)),
        error=status.error or None,
    )


def domain_detail(*, viewer: User, name: str) -> dict[str, Any]:
    """The latest stored result of a domain the viewer may see, plus `since` (else Http404).

    A domain never checked answers with level and checked_at null and nothing else known.
    """
    domain = (
        MailDomain.objects.filter(
            name=name.strip().lower().rstrip("."),
            organization__in=visible_organizations(viewer),
        )
        .select_related("organization")
        .first()
    )
    if domain is None:
        raise Http404("No such domain.")
    try:
        status = domain.status
    except DomainStatus.DoesNotExist:
        status = DomainStatus(domain=domain)
    if not status.level:
        found: dict[str, Any] = {
            "domain": domain.name,
            "level": None,
            "checked_at": None,
            "warnings": [],
            "mx": [],
            "mta_sts": {"mode": None, "valid": None, "errors": []},
            "dane": {"tlsa": False, "dnssec": False, "valid": None},
            "tls_rpt": {"present": False, "rua": []},
            "error": None,
        }
    else:
        observations = selectors.domain_observations(statuses=[status])
        found = _domain_result(status, observations.get(domain.pk, [])).to_json()
    found["organization"] = domain.organization.slug
    found["since"] = _iso(status.since)
    return found


# -- pairs -------------------------------------------------------------------------------------


def pair_page(*, viewer: User, page: int = 1, per_page: int = 100) -> Page:
    """The partnerships the viewer may see, in both directions (the `export_pairs` shape):
    each direction is the receiver's inbound level capped by the sender's observed outbound,
    and `assumed` says a side's sending was never observed (monitoring.levels.pair_verdict)."""
    pairs = visible_pairs(Partnership.objects.all(), viewer=viewer)
    count = pairs.count()
    page, pages, start, end = _bounds(count, page, per_page)
    items = [row.as_json() for row in selectors.pair_rows(pairs, start=start, end=end)]
    return Page(count=count, page=page, pages=pages, items=items)


# -- status changes ----------------------------------------------------------------------------


def change_page(*, viewer: User, since: datetime, page: int = 1, per_page: int = 100) -> Page:
    """Status changes at or after `since` of the organizations whose history the viewer sees
    in the pages (their own; staff: all), oldest first."""
    changes: QuerySet[StatusChange] = StatusChange.objects.filter(
        Q(at__gte=since), domain__organization__in=member_organizations(viewer)
    ).order_by("at", "pk")
    count = changes.count()
    page, pages, start, end = _bounds(count, page, per_page)
    items = [
        {
            "id": change.pk,
            "at": _iso(change.at),
            "organization": change.domain.organization.slug,
            "domain": change.domain.name,
            "from_level": _level(change.from_level),
            "to_level": _level(change.to_level),
            "warnings_added": list(change.warnings_added),
            "warnings_removed": list(change.warnings_removed),
        }
        for change in changes.select_related("domain__organization")[start:end]
    ]
    return Page(count=count, page=page, pages=pages, items=items)
