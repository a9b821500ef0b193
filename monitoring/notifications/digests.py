"""Digests to IT contacts: what each one says (read in bounded queries), and queueing them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from monitoring import levels, selectors
from monitoring.dashboard.advice import (
    EXPIRING_DAYS,
    Advice,
    advice_for_domain,
    outbound_advice,
)
from monitoring.evidence.selectors import ReportedFailure, reported_failures
from monitoring.explanations.models import Explanation
from monitoring.explanations.selectors import current_explanations, due_soon
from monitoring.models import (
    Certificate,
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    StatusChange,
)
from monitoring.notifications.models import OutboxMessage
from monitoring.notifications.outbox import (
    Outgoing,
    Rendered,
    list_headers,
    make_message,
    outbox_add,
    site_url,
    unsubscribe_url,
)
from monitoring.probe.model import Level
from partners.models import Contact, Organization, Partnership

# Weekly digests go out on this weekday (0 = Monday), daily ones every day.
WEEKLY_WEEKDAY = 0
PERIODS = {Contact.Digest.DAILY: timedelta(days=1), Contact.Digest.WEEKLY: timedelta(days=7)}
# Contacts read per round of queries: bounded memory, a constant number of queries per round.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class DomainProblems:
    name: str
    level: str
    advice: tuple[Advice, ...]

    @property
    def level_label(self) -> Promise:
        return levels.level_label(self.level)


@dataclass(frozen=True, slots=True)
class ExpiringCertificate:
    host: str  # an MX host, or the MTA-STS policy host
    not_after: datetime
    days_left: int
    mta_sts: bool


@dataclass(frozen=True, slots=True)
class DomainChange:
    domain: str
    at: datetime
    from_level: str
    to_level: str
    warnings_added: tuple[str, ...]
    warnings_removed: tuple[str, ...]
    direction: str  # "regression", "improvement" or "other"

    @property
    def from_label(self) -> Promise:
        return levels.level_label(self.from_level)

    @property
    def to_label(self) -> Promise:
        return levels.level_label(self.to_level)


@dataclass(frozen=True, slots=True)
class PartnerChange:
    name: str
    level: str
    since: datetime

    @property
    def level_label(self) -> Promise:
        return levels.level_label(self.level)

    @property
    def out_of_feed(self) -> bool:
        """Its domains are left out of the organization's TLS policy feed (levels below
        encrypted allow no enforced TLS), so its mail now goes without enforced TLS."""
        return levels.enforceable_policy(self.level) is None


@dataclass(frozen=True, slots=True)
class Digest:
    contact: Contact
    since: datetime
    level: str
    organization_url: str
    domains: tuple[DomainProblems, ...]  # domains with something to fix, worst advice first
    expiring: tuple[ExpiringCertificate, ...]
    changes: tuple[DomainChange, ...]  # regressions first, then improvements, then the rest
    partners: tuple[PartnerChange, ...]
    # The organization's explanation when its target date is within a week (a reminder).
    explanation_due: Explanation | None = None
    # How its gateways send, when that needs saying: plain text or old TLS (a problem), or
    # never observed (a reminder to send a test message).
    outbound: Advice | None = None
    # Failures senders reported in SMTP TLS reports received since the previous digest.
    reported_failures: tuple[ReportedFailure, ...] = ()

    @property
    def level_label(self) -> Promise:
        return levels.level_label(self.level)

    @property
    def has_news(self) -> bool:
        """Something worth an email: a problem or warning, an expiry, a change."""
        problems = any(
            advice.severity != "info" for domain in self.domains for advice in domain.advice
        )
        outbound_problem = self.outbound is not None and self.outbound.severity == "problem"
        return (
            problems
            or outbound_problem
            or bool(
                self.expiring
                or self.changes
                or self.partners
                or self.explanation_due
                or self.reported_failures
            )
        )


def certificates_in_use(
    status: DomainStatus, observations: Sequence[HostObservation]
) -> list[tuple[str, Certificate, bool]]:
    """(host, certificate, is the MTA-STS host) for what a domain's servers present now:
    every tested MX address, and the MTA-STS policy host. Digests and alerts both watch these."""
    found = [
        (obs.host, obs.certificate, False)
        for obs in observations
        if obs.tested and obs.certificate is not None
    ]
    if status.mta_sts_certificate is not None:
        found.append((f"mta-sts.{status.domain.name}", status.mta_sts_certificate, True))
    return found  # type: ignore[return-value]


def _expiring(
    status: DomainStatus, observations: Sequence[HostObservation], now: datetime
) -> list[ExpiringCertificate]:
    found: dict[tuple[str, str], ExpiringCertificate] = {}
    for host, certificate, mta_sts in certificates_in_use(status, observations):
        days_left = (certificate.not_after - now).days
        if 0 <= days_left <= EXPIRING_DAYS:
            found.setdefault(
                (certificate.sha256, host),
                ExpiringCertificate(host, certificate.not_after, days_left, mta_sts),
            )
    return sorted(found.values(), key=lambda item: (item.days_left, item.host))


def digests_build(
    *, contacts: Sequence[Contact], now: datetime | None = None
) -> Iterator[tuple[Contact, Digest]]:
    """What each contact's digest says, in a constant number of queries per CHUNK contacts.

    `contacts` need their organization loaded (select_related). A contact's digest covers the
    time since its previous digest (or one period, the first time).
    """
    now = now or timezone.now()
    for start in range(0, len(contacts), CHUNK):
        yield from _build_chunk(contacts[start : start + CHUNK], now)


def _build_chunk(contacts: Sequence[Contact], now: datetime) -> Iterator[tuple[Contact, Digest]]:
    org_ids = {contact.organization_id for contact in contacts}
    last_sent = dict(
        OutboxMessage.objects.filter(
            kind=OutboxMessage.Kind.DIGEST, contact_id__in=[c.pk for c in contacts]
        )
        .values("contact_id")
        .annotate(last=Max("created"))
        .values_list("contact_id", "last")
    )
    since = {
        contact.pk: last_sent.get(contact.pk)
        or now - PERIODS.get(contact.digest, PERIODS[Contact.Digest.WEEKLY])
        for contact in contacts
    }
    oldest = min(since.values())
    stated = current_explanations(organization_ids=org_ids)
    today = timezone.localdate(now)
    org_levels, org_outbound = {}, {}
    for pk, level, outbound in OrganizationStatus.objects.filter(pk__in=org_ids).values_list(
        "pk", "level", "outbound"
    ):
        org_levels[pk], org_outbound[pk] = level, outbound
    failures_of = reported_failures(organization_ids=org_ids, since=oldest)
    statuses = list(
        DomainStatus.objects.filter(
            domain__organization_id__in=org_ids, domain__active=True, checked_at__isnull=False
        )
        .select_related("domain", "mta_sts_certificate")
        .order_by("domain__name")
    )
    observations = selectors.domain_observations(statuses=statuses)
    statuses_of: dict[int, list[DomainStatus]] = {}
    for status in statuses:
        statuses_of.setdefault(status.domain.organization_id, []).append(status)
    changes_of: dict[int, list[tuple[datetime, DomainChange]]] = {}
    for org_id, name, at, from_level, to_level, added, removed in (
        StatusChange.objects.filter(
            domain__organization_id__in=org_ids, domain__active=True, at__gt=oldest
        )
        .order_by("at", "pk")
        .values_list(
            "domain__organization_id",
            "domain__name",
            "at",
            "from_level",
            "to_level",
            "warnings_added",
            "warnings_removed",
        )
    ):
        change = DomainChange(
            name,
            at,
            from_level,
            to_level,
            tuple(added or ()),
            tuple(removed or ()),
            levels.change_direction(from_level, to_level),
        )
        changes_of.setdefault(org_id, []).append((at, change))
    partners_of: dict[int, set[int]] = {}
    for a, b in Partnership.objects.filter(
        Q(org_a_id__in=org_ids) | Q(org_b_id__in=org_ids)
    ).values_list("org_a_id", "org_b_id"):
        partners_of.setdefault(a, set()).add(b)
        partners_of.setdefault(b, set()).add(a)
    partner_ids = set().union(*partners_of.values()) if partners_of else set()
    partner_moves = {
        pk: (name, level, moved)
        for pk, name, level, moved in OrganizationStatus.objects.filter(
            pk__in=partner_ids, since__gt=oldest, organization__active=True
        ).values_list("pk", "organization__name", "level", "since")
    }
    # Advice is worded in the contact's language and the same for every contact of an
    # organization: computed once per (organization, language).
    problems: dict[tuple[int, str], tuple[DomainProblems, ...]] = {}
    outbound_advice_of: dict[tuple[int, str], Advice | None] = {}
    expiring: dict[int, tuple[ExpiringCertificate, ...]] = {}
    for contact in contacts:
        org_id = contact.organization_id
        key = (org_id, contact.language)
        if key not in problems:
            with translation.override(contact.language):
                found = []
                for status in statuses_of.get(org_id, []):
                    advice = advice_for_domain(
                        status, observations.get(status.domain_id, []), now=now
                    )
                    if advice:
                        found.append(
                            DomainProblems(status.domain.name, status.level, tuple(advice))
                        )
                problems[key] = tuple(found)
                outbound = org_outbound.get(org_id, levels.OUTBOUND_UNKNOWN)
                outbound_advice_of[key] = outbound_advice(contact.organization.name, outbound)
        if org_id not in expiring:
            expiring[org_id] = tuple(
                item
                for status in statuses_of.get(org_id, [])
                for item in _expiring(status, observations.get(status.domain_id, []), now)
            )
        cutoff = since[contact.pk]
        order = {levels.REGRESSION: 0, levels.IMPROVEMENT: 1, levels.OTHER: 2}
        changes = sorted(
            (change for at, change in changes_of.get(org_id, []) if at > cutoff),
            key=lambda change: (order[change.direction], change.at),
        )
        partners = sorted(
            (
                PartnerChange(name, level, moved)
                for pk in partners_of.get(org_id, ())
                if pk in partner_moves
                for name, level, moved in [partner_moves[pk]]
                if moved > cutoff
            ),
            key=lambda partner: partner.name.lower(),
        )
        yield (
            contact,
            Digest(
                contact=contact,
                since=cutoff,
                level=org_levels.get(org_id, ""),
                organization_url=site_url(
                    reverse("organization", kwargs={"slug": contact.organization.slug})
                ),
                domains=problems[key],
                expiring=expiring[org_id],
                changes=tuple(changes),
                partners=tuple(partners),
                explanation_due=(
                    stated[org_id].explanation
                    if org_id in stated and due_soon(stated[org_id], today=today)
                    else None
                ),
                outbound=outbound_advice_of[key],
                reported_failures=tuple(
                    failure
                    for failure in failures_of.get(org_id, [])
                    if failure.received_at > cutoff
                ),
            ),
        )


def digest_render(digest: Digest) -> Rendered:
    contact = digest.contact
    return make_message(
        "digest",
        {
            "digest": digest,
            "contact": contact,
            "organization": contact.organization,
            "unsubscribe_url": unsubscribe_url(contact),
        },
        language=contact.language,
        headers=list_headers(contact),
    )


def period_key(frequency: str, moment: datetime) -> str:
    """The digest period holding `moment`: a local day, or an ISO week."""
    day: date = timezone.localdate(moment)
    if frequency == Contact.Digest.DAILY:
        return day.isoformat()
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_dedupe_key(contact: Contact, moment: datetime) -> str:
    return f"digest:{contact.pk}:{period_key(contact.digest, moment)}"


def due_contacts(*, now: datetime, email: str | None = None) -> list[Contact]:
    """Contacts whose digest is due today: daily ones, weekly ones on WEEKLY_WEEKDAY.

    With `email`, that address's contacts whatever the day (each still once per period).
    """
    contacts = Contact.objects.filter(organization__active=True).exclude(digest=Contact.Digest.OFF)
    if email is not None:
        contacts = contacts.filter(email__iexact=email)
    elif timezone.localdate(now).weekday() != WEEKLY_WEEKDAY:
        contacts = contacts.filter(digest=Contact.Digest.DAILY)
    return list(contacts.select_related("organization").order_by("pk"))


@dataclass(frozen=True, slots=True)
class DigestRun:
    considered: int
    queued: int
    skipped_quiet: int  # nothing to say, and the contact did not ask for "always"
    already: int  # this period's digest exists


def digests_enqueue(
    *, now: datetime | None = None, email: str | None = None, dry_run: bool = False
) -> tuple[DigestRun, list[Outgoing]]:
    """Queue this period's digest for every due contact, at most once per contact and period.

    With `dry_run` nothing is stored; the messages that would be queued are returned.
    """
    now = now or timezone.now()
    contacts = due_contacts(now=now, email=email)
    keys = {contact.pk: digest_dedupe_key(contact, now) for contact in contacts}
    existing = _existing_keys(keys.values())
    waiting = [contact for contact in contacts if keys[contact.pk] not in existing]
    outgoing: list[Outgoing] = []
    quiet = 0
    for contact, digest in digests_build(contacts=waiting, now=now):
        if not digest.has_news and not contact.digest_always:
            quiet += 1
            continue
        outgoing.append(
            Outgoing(
                dedupe_key=keys[contact.pk],
                kind=OutboxMessage.Kind.DIGEST,
                to=contact.email,
                rendered=digest_render(digest),
                contact_id=contact.pk,
            )
        )
    queued = len(outgoing) if dry_run else outbox_add(messages=outgoing, now=now)
    return (
        DigestRun(
            considered=len(contacts),
            queued=queued,
            skipped_quiet=quiet,
            already=len(contacts) - len(waiting),
        ),
        outgoing,
    )


def _existing_keys(keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    keys = list(keys)
    for start in range(0, len(keys), 5000):
        found.update(
            OutboxMessage.objects.filter(dedupe_key__in=keys[start : start + 5000]).values_list(
                "dedupe_key", flat=True
            )
        )
    return found


# -- the staff digest ----------------------------------------------------------------------------

# How many regressions and unreachable organizations the staff digest names.
STAFF_LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class LevelCount:
    level: str
    now: int
    before: int

    @property
    def label(self) -> Promise:
        return levels.level_label(self.level)

    @property
    def change(self) -> int:
        return self.now - self.before


@dataclass(frozen=True, slots=True)
class StaffRegression:
    name: str
    before: str
    after: str

    @property
    def before_label(self) -> Promise:
        return levels.level_label(self.before)

    @property
    def after_label(self) -> Promise:
        return levels.level_label(self.after)


@dataclass(frozen=True, slots=True)
class StaffDigest:
    week_start: date
    week_end: date
    organizations: int
    levels: tuple[LevelCount, ...]
    regressions: tuple[StaffRegression, ...]
    regressions_total: int
    unreachable: tuple[str, ...]  # organizations nobody receives digests or alerts for
    unreachable_total: int
    overview_url: str


def staff_digest_build(*, now: datetime | None = None) -> StaffDigest:
    """Rollout figures now and a week ago, the week's regressions, organizations nobody hears."""
    now = now or timezone.now()
    until = timezone.localdate(now) - timedelta(days=1)
    since = until - timedelta(days=7)
    current, previous = selectors.rollout(at=until), selectors.rollout(at=since)
    counts = tuple(
        LevelCount(key, current.by_level.get(key, 0), previous.by_level.get(key, 0))
        for key in levels.DISPLAY_ORDER
        if current.by_level.get(key) or previous.by_level.get(key)
    )
    found = []
    for pk, new in current.levels.items():
        old = previous.levels.get(pk)
        if levels.change_direction(old, new) == levels.REGRESSION:
            found.append((pk, str(old), str(new)))
    # Worst landing first: plaintext before partial before encrypted.
    found.sort(key=lambda item: (Level(item[2]).rank, item[0]))
    names = dict(
        Organization.objects.filter(
            pk__in=[pk for pk, _, _ in found[:STAFF_LIST_LIMIT]]
        ).values_list("pk", "name")
    )
    unheard = Organization.objects.filter(active=True).exclude(
        pk__in=Contact.objects.exclude(digest=Contact.Digest.OFF).values("organization_id")
    )
    return StaffDigest(
        week_start=since + timedelta(days=1),
        week_end=until,
        organizations=current.organizations,
        levels=counts,
        regressions=tuple(
            StaffRegression(names[pk], old, new) for pk, old, new in found[:STAFF_LIST_LIMIT]
        ),
        regressions_total=len(found),
        unreachable=tuple(
            unheard.order_by("name").values_list("name", flat=True)[:STAFF_LIST_LIMIT]
        ),
        unreachable_total=unheard.count(),
        overview_url=site_url(reverse("home")),
    )


def staff_digest_enqueue(*, now: datetime | None = None) -> int:
    """Queue this week's staff digest to every active staff user with an address, once."""
    now = now or timezone.now()
    recipients = list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    if not recipients:
        return 0
    digest = staff_digest_build(now=now)
    # Staff read the product's default language; their accounts hold no preference.
    rendered = make_message("staff-digest", {"digest": digest}, language=settings.LANGUAGE_CODE)
    week = period_key(Contact.Digest.WEEKLY, now)
    return outbox_add(
        messages=[
            Outgoing(
                dedupe_key=f"staff-digest:{user.pk}:{week}",
                kind=OutboxMessage.Kind.STAFF_DIGEST,
                to=user.email,
                rendered=rendered,
            )
            for user in recipients
        ],
        now=now,
    )
