"""Reads of stored results that every room shares: levels, rollout, cycles, domains, history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from monitoring import levels
from monitoring.levels import level_key
from monitoring.models import (
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    ProbeCycle,
    StatusChange,
)
from monitoring.probe.model import Level
from partners.models import MailDomain, Organization, Partnership


def _org_id(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


# -- organization and pair levels --------------------------------------------------------------


def organization_levels(*, organization_ids: Iterable[int]) -> dict[int, Level | None]:
    """Stored inbound level of each organization (None: not checked), in one query."""
    ids = list(organization_ids)
    found = dict(OrganizationStatus.objects.filter(pk__in=ids).values_list("pk", "level"))
    return {pk: levels.as_level(found.get(pk)) for pk in ids}


def organization_level(organization: Organization | int) -> Level | None:
    pk = _org_id(organization)
    return organization_levels(organization_ids=[pk])[pk]


@dataclass(frozen=True, slots=True)
class OrganizationState:
    """What the pair rule reads of one organization: its stored inbound level and outbound."""

    level: Level | None  # None: not checked
    outbound: str  # levels.OUTBOUND_*


def organization_states(*, organization_ids: Iterable[int]) -> dict[int, OrganizationState]:
    """Each organization's stored level and outbound, in one query (no stored status: not
    checked, outbound unknown)."""
    ids = list(organization_ids)
    found = {
        pk: (level, outbound)
        for pk, level, outbound in OrganizationStatus.objects.filter(pk__in=ids).values_list(
            "pk", "level", "outbound"
        )
    }
    states = {}
    for pk in ids:
        level, outbound = found.get(pk, ("", levels.OUTBOUND_UNKNOWN))
        states[pk] = OrganizationState(levels.as_level(level), outbound or levels.OUTBOUND_UNKNOWN)
    return states


def pair_verdict(a: Organization | int, b: Organization | int) -> levels.PairVerdict:
    """Both directions between organizations a and b and the pair's level, in one query."""
    a_id, b_id = _org_id(a), _org_id(b)
    states = organization_states(organization_ids=[a_id, b_id])
    left, right = states[a_id], states[b_id]
    return levels.pair_verdict(left.level, right.level, left.outbound, right.outbound)


def pair_level(a: Organization | int, b: Organization | int) -> Level | None:
    """The level organizations a and b can exchange mail at (monitoring.levels), one query."""
    return pair_verdict(a, b).level


# -- rollout figures from the change history --------------------------------------------------


@dataclass(frozen=True)
class Rollout:
    at: date
    organizations: int
    by_level: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    by_province: dict[str, dict[str, int]]
    # Each organization's inbound level at the end of `at` (for regressions, drill-down).
    levels: dict[int, Level | None] = field(repr=False)


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def domain_levels_at(moment: datetime) -> dict[int, str]:
    """Each domain's level at `moment` (exclusive), from the change history, in one query.

    A domain's changes are stored in time order (a result older than the stored status is
    never written), so its latest change before `moment` is the one with the highest id.
    """
    latest = (
        StatusChange.objects.filter(at__lt=moment)
        .values("domain_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return dict(StatusChange.objects.filter(pk__in=latest).values_list("domain_id", "to_level"))


def rollout(*, at: date) -> Rollout:
    """Organizations per inbound level, per kind and per province, as they stood at end of `at`.

    Counts active organizations created by then, over their currently active domains.
    Three queries.
    """
    end = _end_of(at)
    domain_levels = domain_levels_at(end)
    organizations = list(
        Organization.objects.filter(active=True, created__lt=end).values_list(
            "pk", "kind", "province"
        )
    )
    found: dict[int, list[str]] = {pk: [] for pk, _, _ in organizations}
    for domain_id, organization_id in MailDomain.objects.filter(
        active=True, organization__active=True
    ).values_list("pk", "organization_id"):
        if organization_id in found and domain_id in domain_levels:
            found[organization_id].append(domain_levels[domain_id])
    org_levels = {pk: levels.inbound_level(values) for pk, values in found.items()}
    by_level: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    by_province: dict[str, Counter[str]] = {}
    for pk, kind, province in organizations:
        key = level_key(org_levels[pk])
        by_level[key] += 1
        by_kind.setdefault(kind, Counter())[key] += 1
        by_province.setdefault(province, Counter())[key] += 1
    return Rollout(
        at=at,
        organizations=len(organizations),
        by_level=dict(by_level),
        by_kind={k: dict(v) for k, v in by_kind.items()},
        by_province={k: dict(v) for k, v in by_province.items()},
        levels=org_levels,
    )


# -- cycles ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CycleProgress:
    id: int
    trigger: str
    started: datetime
    finished: datetime | None
    done: int
    total: int
    counts: dict[str, int]

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


def cycle_progress(*, cycle_id: int) -> CycleProgress | None:
    """Progress of a cycle for the UI (one query); None when there is no such cycle."""
    row = (
        ProbeCycle.objects.filter(pk=cycle_id)
        .values_list("pk", "trigger", "started", "finished", "done", "total", "counts")
        .first()
    )
    return CycleProgress(*row) if row else None


def cycle_latest(*, organization: Organization | int | None = None) -> ProbeCycle | None:
    """The latest cycle (of one organization's re-probes when given)."""
    cycles = ProbeCycle.objects.all()
    if organization is not None:
        cycles = cycles.filter(organization_id=_org_id(organization))
    return cycles.order_by("-started", "-pk").first()


def organization_cycle(*, organization: Organization | int, cycle_id: int) -> ProbeCycle | None:
    """One of the organization's own re-probe cycles (None for any other cycle)."""
    return ProbeCycle.objects.filter(pk=cycle_id, organization_id=_org_id(organization)).first()


# -- domains -----------------------------------------------------------------------------------


def organization_domains(*, organization: Organization | int) -> list[DomainStatus]:
    """An organization's domains with their status (unsaved "not checked" ones when missing)."""
    domains = MailDomain.objects.filter(organization_id=_org_id(organization)).select_related(
        "status", "status__mta_sts_certificate"
    )
    found = []
    for domain in domains.order_by("name"):
        try:
            status = domain.status
        except DomainStatus.DoesNotExist:
            status = DomainStatus(domain=domain)
        found.append(status)
    return found


def domain_observations(*, statuses: Iterable[DomainStatus]) -> dict[int, list[HostObservation]]:
    """The observations behind each status (its MX addresses in its cycle), in one query."""
    wanted: dict[tuple[int, str, str], list[int]] = {}
    condition = Q()
    for status in statuses:
        if status.cycle_id is None:
            continue
        hosts = [mx["host"] for mx in status.mx]
        if hosts:
            condition |= Q(cycle_id=status.cycle_id, host__in=hosts)
        for mx in status.mx:
            for ip in mx["addresses"]:
                wanted.setdefault((status.cycle_id, mx["host"], ip), []).append(status.domain_id)
    found: dict[int, list[HostObservation]] = {}
    if not condition:
        return found
    for observation in (
        HostObservation.objects.filter(condition)
        .select_related("certificate")
        .order_by("host", "ip")
    ):
        for domain_id in wanted.get((observation.cycle_id, observation.host, observation.ip), []):
            found.setdefault(domain_id, []).append(observation)
    return found


@dataclass(frozen=True, slots=True)
class ExportRow:
    organization: str
    domain: str | None
    level: str
    warnings: list[str]
    checked_at: datetime | None
    since: datetime | None
    organization_id: int = 0


def status_export_rows() -> Iterator[ExportRow]:
    """Every organization and domain with its status, streamed (organizations without a
    domain appear once with domain None)."""
    rows = (
        Organization.objects.order_by("name", "pk")
        .values_list(
            "pk",
            "name",
            "domains__name",
            "domains__status__level",
            "domains__status__warnings",
            "domains__status__checked_at",
            "domains__status__since",
        )
        .order_by("name", "pk", "domains__name")
    )
    for pk, name, domain, level, warnings, checked_at, since in rows.iterator(chunk_size=2000):
        yield ExportRow(
            organization_id=pk,
            organization=name,
            domain=domain,
            level=level or "",
            warnings=list(warnings or []),
            checked_at=checked_at,
            since=since,
        )


def partners_of(organization: Organization | int) -> QuerySet[Organization]:
    """The organization's partners, as a query: filter with it (`organization__in=`) to read
    them inside another query rather than first fetching their ids."""
    pk = _org_id(organization)
    return Organization.objects.filter(
        Q(pk__in=Partnership.objects.filter(org_a_id=pk).values("org_b_id"))
        | Q(pk__in=Partnership.objects.filter(org_b_id=pk).values("org_a_id"))
    )


def organization_history(
    *, organization: Organization | int, limit: int = 50
) -> list[StatusChange]:
    """The organization's latest status changes, newest first, with their domain (one query)."""
    return list(
        StatusChange.objects.filter(domain__organization_id=_org_id(organization))
        .select_related("domain")
        .order_by("-at", "-pk")[:limit]
    )


@dataclass(frozen=True, slots=True)
class PairRow:
    """A partnership with both directions: what `export_pairs` and the API's pairs show."""

    a: str  # organization names, a the lower id
    b: str
    verdict: levels.PairVerdict

    def as_json(self) -> dict[str, object]:
        def word(level: Level | None) -> str | None:
            return str(level) if level is not None else None

        return {
            "a": self.a,
            "b": self.b,
            "level": word(self.verdict.level),
            "a_to_b": word(self.verdict.a_to_b),
            "b_to_a": word(self.verdict.b_to_a),
            "assumed": self.verdict.assumed,
        }


def pair_rows(
    partnerships: QuerySet[Partnership] | None = None,
    *,
    start: int | None = None,
    end: int | None = None,
) -> Iterator[PairRow]:
    """Every partnership (or those given, or rows start..end of them) with both directions,
    ordered by names, streamed."""
    partnerships = Partnership.objects.all() if partnerships is None else partnerships
    rows = partnerships.order_by("org_a__name", "org_b__name", "pk").values_list(
        "org_a__name",
        "org_b__name",
        "org_a__status__level",
        "org_b__status__level",
        "org_a__status__outbound",
        "org_b__status__outbound",
    )
    if start is not None or end is not None:
        rows = rows[start:end]
    for a, b, a_level, b_level, a_out, b_out in rows.iterator(chunk_size=2000):
        verdict = levels.pair_verdict(a_level, b_level, a_out, b_out)
        yield PairRow(a, b, verdict)
