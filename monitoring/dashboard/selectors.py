"""Page-shaped reads of the dashboard: partner pages, the matrix, the rollout overview.

Each reads a bounded number of queries, whatever the size of the industry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from monitoring import levels
from monitoring.levels import level_key
from monitoring.models import (
    Certificate,
    DomainStatus,
    HostObservation,
    ProbeCycle,
    StatusChange,
)
from monitoring.probe.grading import EXPIRING_DAYS
from monitoring.probe.model import Level
from monitoring.selectors import partners_of
from partners.access import User, visible_pairs
from partners.models import MailDomain, Organization, Partnership


@dataclass(frozen=True, slots=True)
class OrganizationLevel:
    id: int
    name: str
    slug: str
    kind: str
    province: str
    level: Level | None
    outbound: str = levels.OUTBOUND_UNKNOWN


# Every stored value a level column can hold ("" is "not checked").
STORED_LEVELS: tuple[str, ...] = ("", *(str(level) for level in Level))
# Columns read to build an OrganizationLevel or an OrganizationSummary.
LEVEL_FIELDS = ("pk", "name", "slug", "kind", "province", "status__level", "status__outbound")


def _organization_level(row: tuple) -> OrganizationLevel:
    pk, name, slug, kind, province, level, outbound = row
    return OrganizationLevel(
        pk, name, slug, kind, province, levels.as_level(level),
        outbound or levels.OUTBOUND_UNKNOWN,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrganizationSummary:
    """An organization's level with what its active domains say: warnings, oldest check."""

    id: int
    name: str
    slug: str
    kind: str
    province: str
    level: Level | None
    warnings: tuple[str, ...]
    checked_at: datetime | None  # the oldest check over its domains (None: one never checked)
    domains: int
    outbound: str = levels.OUTBOUND_UNKNOWN  # how it sends, as the receiver observed it

    @property
    def outbound_label(self) -> str:
        return str(levels.outbound_label(self.outbound))

    @property
    def outbound_observed(self) -> bool:
        return self.outbound != levels.OUTBOUND_UNKNOWN


def organization_summaries(*, organization_ids: Iterable[int]) -> list[OrganizationSummary]:
    """Summaries of the given organizations, worst first then by name, in two queries."""
    ids = list(organization_ids)
    return _summaries(Organization.objects.filter(pk__in=ids).values_list(*LEVEL_FIELDS))


def _summaries(
    rows: Iterable[tuple[int, str, str, str, str, str | None, str | None]],
) -> list[OrganizationSummary]:
    """Summaries of organizations read as LEVEL_FIELDS rows, in one more query."""
    rows = list(rows)
    ids = [row[0] for row in rows]
    warnings: dict[int, set[str]] = {pk: set() for pk in ids}
    checks: dict[int, list[datetime | None]] = {pk: [] for pk in ids}
    for organization_id, found, checked_at in MailDomain.objects.filter(
        organization_id__in=ids, active=True
    ).values_list("organization_id", "status__warnings", "status__checked_at"):
        warnings[organization_id].update(found or [])
        checks[organization_id].append(checked_at)

    def oldest(pk: int) -> datetime | None:
        # One domain never checked makes the whole organization "not checked yet".
        found = checks[pk]
        return None if not found or None in found else min(found)  # type: ignore[type-var]

    summaries = [
        OrganizationSummary(
            id=pk,
            name=name,
            slug=slug,
            kind=kind,
            province=province,
            level=levels.as_level(level),
            warnings=tuple(sorted(warnings[pk])),
            checked_at=oldest(pk),
            domains=len(checks[pk]),
            outbound=outbound or levels.OUTBOUND_UNKNOWN,
        )
        for pk, name, slug, kind, province, level, outbound in rows
    ]
    summaries.sort(key=lambda s: (levels.attention_rank(s.level), s.name.lower(), s.id))
    return summaries


@dataclass(frozen=True)
class PartnerPage:
    """One page of an organization's partners, worst first, with counts over all of them."""

    summaries: list[OrganizationSummary]
    total: int
    counts: dict[str, int]  # organization level key -> partners
    number: int
    pages: int

    def __iter__(self) -> Iterator[OrganizationSummary]:
        return iter(self.summaries)

    def __len__(self) -> int:
        return len(self.summaries)


def partner_page(
    *, organization: Organization | int, page: int = 1, per_page: int = 100
) -> PartnerPage:
    """A page of the organization's partners, worst first then by name, in three queries.

    Sorted and cut in SQL, so a large insurer's thousands of partners cost one page of rows.
    """
    partners = partners_of(organization)
    counts: Counter[str] = Counter()
    for level, n in (
        partners.values("status__level")
        .annotate(n=Count("pk"))
        .values_list("status__level", "n")
        .order_by()
    ):
        counts[level_key(levels.as_level(level))] += n
    total = sum(counts.values())
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    attention = Case(
        *(
            When(status__level=str(level), then=Value(rank))
            for level, rank in levels.ATTENTION_ORDER.items()
            if level is not None
        ),
        default=Value(levels.ATTENTION_ORDER[None]),
        output_field=IntegerField(),
    )
    start = (number - 1) * per_page
    rows = (
        partners.annotate(attention=attention)
        .order_by("attention", Lower("name"), "pk")
        .values_list(*LEVEL_FIELDS)[start : start + per_page]
    )
    return PartnerPage(
        summaries=_summaries(rows), total=total, counts=dict(counts), number=number, pages=pages
    )


# The matrix: insurers are columns, every other organization a row.
INSURER = "insurer"


@dataclass(frozen=True)
class DashboardMatrixFilters:
    """A pair is shown when either side matches kind/province/search and its level matches."""

    kind: str = ""
    province: str = ""
    level: str = ""  # a level, or NOT_CHECKED
    search: str = ""


@dataclass(frozen=True, slots=True)
class MatrixCell:
    row: OrganizationLevel
    column: OrganizationLevel
    verdict: levels.PairVerdict  # a is the row, b the column

    @property
    def level(self) -> Level | None:
        return self.verdict.level

    @property
    def policy(self) -> str | None:
        return self.level.policy if self.level is not None else None

    @property
    def assumed(self) -> bool:
        return self.verdict.assumed


def cell_verdict(row: OrganizationLevel, column: OrganizationLevel) -> levels.PairVerdict:
    return levels.pair_verdict(row.level, column.level, row.outbound, column.outbound)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    organization: OrganizationLevel
    # One entry per column: a cell, or a run of empty columns (an int, how many) so a page
    # renders in proportion to its pairs, not rows x columns.
    segments: tuple[MatrixCell | int, ...]


@dataclass(frozen=True)
class MatrixPage:
    columns: tuple[OrganizationLevel, ...]
    column_counts: dict[int, dict[str, int]]  # column id -> pair level key -> pairs
    rows: tuple[MatrixRow, ...]
    row_total: int
    pair_total: int
    counts: dict[str, int]  # pair level key -> pairs, over every page


@cache
def _levels_matching(level: str) -> tuple[tuple[str, str, str, str], ...]:
    """The stored (level, level, outbound, outbound) combinations of a pair's sides whose
    pair level is `level`.

    A pure function of `level` over the stored values and the pair rule, so worked out once
    per level (the filter form allows only a handful) rather than on every filtered request.
    """
    return tuple(
        (left, right, left_out, right_out)
        for left in STORED_LEVELS
        for right in STORED_LEVELS
        for left_out in levels.OUTBOUND_ORDER
        for right_out in levels.OUTBOUND_ORDER
        if level_key(levels.pair_verdict(left, right, left_out, right_out).level) == level
    )


def _matrix_pairs(*, viewer: User, filters: DashboardMatrixFilters) -> QuerySet[Partnership]:
    """Insurer/non-insurer partnerships the viewer may see, annotated with column, row, levels."""

    insurer_a, insurer_b = Q(org_a__kind=INSURER), Q(org_b__kind=INSURER)
    # Spelled out rather than `insurer_a ^ insurer_b`: PostgreSQL cannot estimate the XOR
    # Django writes (a CASE sum), guesses 15 rows of 50,000 and picks nested loops and a
    # sort on disk.
    pairs = Partnership.objects.filter(
        (insurer_a & ~insurer_b) | (~insurer_a & insurer_b),
        org_a__active=True,
        org_b__active=True,
    )
    pairs = visible_pairs(
        pairs, viewer=viewer, kind=filters.kind, province=filters.province, search=filters.search
    )
    pairs = pairs.annotate(
        column_id=Case(
            When(org_a__kind=INSURER, then=F("org_a_id")),
            default=F("org_b_id"),
            output_field=IntegerField(),
        ),
        row_id=Case(
            When(org_a__kind=INSURER, then=F("org_b_id")),
            default=F("org_a_id"),
            output_field=IntegerField(),
        ),
        a_level=Coalesce(F("org_a__status__level"), Value("")),
        b_level=Coalesce(F("org_b__status__level"), Value("")),
        a_out=Coalesce(F("org_a__status__outbound"), Value(levels.OUTBOUND_UNKNOWN)),
        b_out=Coalesce(F("org_b__status__outbound"), Value(levels.OUTBOUND_UNKNOWN)),
    )
    if filters.level:
        combos = Q(pk__in=[])
        for left, right, left_out, right_out in _levels_matching(filters.level):
            combos |= Q(a_level=left, b_level=right, a_out=left_out, b_out=right_out)
        pairs = pairs.filter(combos)
    return pairs


def matrix_page(
    *,
    viewer: User,
    filters: DashboardMatrixFilters | None = None,
    page: int = 1,
    per_page: int = 50,
) -> MatrixPage:
    """One page of matrix rows with every column and its counts, in four queries.

    Counts are grouped by the two sides' stored levels in SQL, then combined with
    monitoring.levels.pair_level, so the rule lives in one place and the work stays small.
    """
    filters = filters or DashboardMatrixFilters()
    if not viewer.is_authenticated:
        return MatrixPage((), {}, (), 0, 0, {})
    pairs = _matrix_pairs(viewer=viewer, filters=filters)
    column_counts: dict[int, Counter[str]] = {}
    row_ids: set[int] = set()
    for column_id, a_level, b_level, a_out, b_out, n in (
        pairs.values("column_id", "a_level", "b_level", "a_out", "b_out")
        .annotate(n=Count("pk"))
        .values_list("column_id", "a_level", "b_level", "a_out", "b_out", "n")
        .order_by()
    ):
        key = level_key(levels.pair_verdict(a_level, b_level, a_out, b_out).level)
        column_counts.setdefault(column_id, Counter())[key] += n
    rows_query = Organization.objects.filter(pk__in=pairs.values("row_id")).order_by("name", "pk")
    start = max(0, (page - 1) * per_page)
    # The total rides along as a window count: a separate COUNT would find the rows again.
    found_rows = list(
        rows_query.annotate(row_total=Window(Count("pk"))).values_list(*LEVEL_FIELDS, "row_total")[
            start : start + per_page
        ]
    )
    # Past the last page (or with nothing at all) there is no row to read it from.
    row_total = found_rows[0][-1] if found_rows else rows_query.count() if start else 0
    page_rows = [_organization_level(row[:-1]) for row in found_rows]
    columns = [
        _organization_level(row)
        for row in Organization.objects.filter(pk__in=list(column_counts))
        .order_by("name", "pk")
        .values_list(*LEVEL_FIELDS)
    ]
    row_ids = {row.id for row in page_rows}
    found: dict[tuple[int, int], None] = {
        (row_id, column_id): None
        for row_id, column_id in pairs.filter(
            Q(org_a__in=row_ids) | Q(org_b__in=row_ids)
        ).values_list("row_id", "column_id")
        if row_id in row_ids
    }
    rows = []
    for row in page_rows:
        segments: list[MatrixCell | int] = []
        for column in columns:
            if (row.id, column.id) in found:
                verdict = cell_verdict(row, column)
                segments.append(MatrixCell(row=row, column=column, verdict=verdict))
            elif segments and isinstance(segments[-1], int):
                segments[-1] += 1
            else:
                segments.append(1)
        rows.append(MatrixRow(organization=row, segments=tuple(segments)))
    totals: Counter[str] = Counter()
    for counts in column_counts.values():
        totals.update(counts)
    return MatrixPage(
        columns=tuple(columns),
        column_counts={pk: dict(counts) for pk, counts in column_counts.items()},
        rows=tuple(rows),
        row_total=row_total,
        pair_total=sum(totals.values()),
        counts=dict(totals),
    )


def matrix_export_rows(
    *, viewer: User, filters: DashboardMatrixFilters | None = None
) -> Iterator[MatrixCell]:
    """Every cell of the filtered matrix (row, column, both directions), streamed, for CSV."""
    filters = filters or DashboardMatrixFilters()
    if not viewer.is_authenticated:
        return
    pairs = _matrix_pairs(viewer=viewer, filters=filters)
    organizations = {
        row[0]: _organization_level(row)
        for row in Organization.objects.filter(
            Q(pk__in=pairs.values("row_id")) | Q(pk__in=pairs.values("column_id"))
        ).values_list(*LEVEL_FIELDS)
    }
    found = [
        (organizations[row_id], organizations[column_id])
        for row_id, column_id in pairs.values_list("row_id", "column_id")
    ]
    found.sort(key=lambda pair: (pair[0].name.lower(), pair[0].id, pair[1].name.lower()))
    for row, column in found:
        yield MatrixCell(row=row, column=column, verdict=cell_verdict(row, column))


# The rollout overview.


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: datetime
    verified: int
    total: int  # domains with a level on the verified..plaintext scale

    @property
    def percent(self) -> float:
        return 100 * self.verified / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class LevelMove:
    at: datetime
    organization_name: str
    organization_slug: str
    domain: str
    before: Level | None
    after: Level
    better: bool


@dataclass(frozen=True, slots=True)
class ExpiringCertificate:
    subject: str
    san: tuple[str, ...]
    not_after: datetime
    days_left: int
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    by_kind: dict[str, dict[str, int]]  # kind -> organization level key -> organizations
    trend: tuple[TrendPoint, ...]
    moves: tuple[LevelMove, ...]
    expiring: tuple[ExpiringCertificate, ...]
    oldest_check: datetime | None
    newest_check: datetime | None
    not_checked: int  # active domains never checked


def overview(*, now: datetime | None = None, days: int = 30, trend_points: int = 60) -> Overview:
    """What the rollout overview shows, in six queries whatever the size of the industry.

    The trend is the share of probed domains at `verified` per finished scheduled cycle
    (each covers every monitored domain once), read from the counts the cycle stored.
    """
    now = now or timezone.now()
    by_kind: dict[str, Counter[str]] = {}
    for kind, level, n in (
        Organization.objects.filter(active=True)
        .values("kind", "status__level")
        .annotate(n=Count("pk"))
        .values_list("kind", "status__level", "n")
        .order_by()
    ):
        by_kind.setdefault(kind, Counter())[level_key(levels.as_level(level))] += n
    trend = []
    for finished, counts in (
        ProbeCycle.objects.filter(trigger=ProbeCycle.Trigger.SCHEDULE, finished__isnull=False)
        .order_by("-finished")
        .values_list("finished", "counts")[:trend_points]
    ):
        on_scale = sum(counts.get(str(level), 0) for level in levels.SCALE)
        trend.append(TrendPoint(finished, counts.get(str(Level.VERIFIED), 0), on_scale))
    trend.reverse()
    moves = []
    for change in (
        StatusChange.objects.filter(at__gte=now - timedelta(days=days))
        .exclude(from_level="")
        .exclude(from_level=F("to_level"))
        .select_related("domain__organization")
        .order_by("-at", "-pk")[:40]
    ):
        direction = levels.change_direction(change.from_level, change.to_level)
        if direction == levels.OTHER:
            continue
        moves.append(
            LevelMove(
                at=change.at,
                organization_name=change.domain.organization.name,
                organization_slug=change.domain.organization.slug,
                domain=change.domain.name,
                before=levels.as_level(change.from_level),
                after=Level(change.to_level),
                better=direction == levels.IMPROVEMENT,
            )
        )
    # Certificates seen in the last two cycles are the ones still in use.
    recent = now - 2 * timedelta(hours=settings.SECMAIL_CYCLE_HOURS)
    certificates = list(
        Certificate.objects.filter(
            not_after__gte=now,
            not_after__lte=now + timedelta(days=EXPIRING_DAYS),
            last_seen__gte=recent,
        )
        .order_by("not_after", "pk")
        .values_list("pk", "subject", "san", "not_after")[:50]
    )
    hosts: dict[int, set[str]] = {}
    for certificate_id, host in (
        HostObservation.objects.filter(certificate_id__in=[row[0] for row in certificates])
        .values_list("certificate_id", "host")
        .distinct()
    ):
        hosts.setdefault(certificate_id, set()).add(host)
    expiring = tuple(
        ExpiringCertificate(
            subject=subject,
            san=tuple(san or []),
            not_after=not_after,
            days_left=(not_after - now).days,
            hosts=tuple(sorted(hosts.get(pk, ()))),
        )
        for pk, subject, san, not_after in certificates
    )
    freshness = DomainStatus.objects.filter(
        domain__active=True, domain__organization__active=True
    ).aggregate(
        oldest=Min("checked_at"),
        newest=Max("checked_at"),
        never=Count("pk", filter=Q(checked_at__isnull=True)),
    )
    never_scheduled = MailDomain.objects.filter(
        active=True, organization__active=True, status__isnull=True
    ).count()
    return Overview(
        by_kind={kind: dict(counts) for kind, counts in by_kind.items()},
        trend=tuple(trend),
        moves=tuple(moves),
        expiring=expiring,
        oldest_check=freshness["oldest"],
        newest_check=freshness["newest"],
        not_checked=freshness["never"] + never_scheduled,
    )
