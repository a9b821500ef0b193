"""Alerts as soon as a batch of a cycle is stored: expiring certificates, regressions, MX sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from monitoring import levels, selectors
from monitoring.models import DomainStatus, StatusChange
from monitoring.notifications.digests import certificates_in_use
from monitoring.notifications.models import MxSetSeen, OutboxMessage
from monitoring.notifications.outbox import (
    Outgoing,
    list_headers,
    make_message,
    outbox_add,
    site_url,
    unsubscribe_url,
)
from partners.models import Contact

# Days before expiry at which a certificate is announced, each once per certificate and
# recipient address. A certificate first seen closer to expiry gets the tightest one it is past.
EXPIRY_THRESHOLDS = (30, 14, 7, 1)
# Lookups that failed say nothing about the MX set: no MX-change alert on those.
DNS_FAILURES = ("dns-timeout", "dns-servfail")


ALERTS_TASK = "monitoring.notifications.tasks.alerts_after_batch"


def alerts_schedule(*, cycle_id: int, domain_ids: Sequence[int]) -> None:
    """Check the batch's domains for alerts once the transaction storing them commits."""
    ids = list(domain_ids)
    # By name: the tasks module imports this one.
    transaction.on_commit(lambda: current_app.tasks[ALERTS_TASK].delay(cycle_id, ids))


def on_batch_stored(
    sender: object, *, cycle_id: int, domain_ids: Sequence[int], **_: object
) -> None:
    """Receiver of monitoring.signals.batch_stored (connected in NotificationsConfig.ready)."""
    alerts_schedule(cycle_id=cycle_id, domain_ids=domain_ids)


def expiry_threshold(days_left: int) -> int | None:
    """The tightest threshold a certificate with `days_left` has crossed (None: none yet)."""
    if days_left < 0:
        return None  # expired: the level and the digest say so, an "expires in" alert cannot
    crossed = [threshold for threshold in EXPIRY_THRESHOLDS if days_left <= threshold]
    return min(crossed) if crossed else None


@dataclass(frozen=True, slots=True)
class ExpiryAlert:
    sha256: str
    not_after: datetime
    days_left: int
    threshold: int
    hosts: tuple[str, ...]
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegressionAlert:
    change_id: int
    domain: str
    from_level: str
    to_level: str
    at: datetime

    @property
    def from_label(self) -> object:
        return levels.level_label(self.from_level)

    @property
    def to_label(self) -> object:
        return levels.level_label(self.to_level)


@dataclass(frozen=True, slots=True)
class MxChangeAlert:
    domain: str
    version: int
    before: tuple[str, ...]
    after: tuple[str, ...]


def alerts_after_batch(
    *, cycle_id: int, domain_ids: Sequence[int], now: datetime | None = None
) -> int:
    """Queue the alerts the batch's stored results call for; returns how many were new.

    Each alert has a dedupe key in the outbox, so a batch checked twice (a retried task, a
    later cycle seeing the same certificate) alerts once.
    """
    now = now or timezone.now()
    statuses = list(
        DomainStatus.objects.filter(
            domain_id__in=list(domain_ids),
            cycle_id=cycle_id,
            domain__active=True,
            domain__organization__active=True,
        ).select_related("domain", "mta_sts_certificate")
    )
    if not statuses:
        return 0
    org_ids = {status.domain.organization_id for status in statuses}
    contacts_of: dict[int, list[Contact]] = {}
    for contact in (
        Contact.objects.filter(organization_id__in=org_ids)
        .exclude(digest=Contact.Digest.OFF)
        .select_related("organization")
        .order_by("pk")
    ):
        contacts_of.setdefault(contact.organization_id, []).append(contact)
    if not contacts_of:
        # Nobody to tell; the MX sets are still recorded so that a contact added later is not
        # told about changes older than themselves.
        _mx_changes(statuses, now)
        return 0
    by_org: dict[int, list[DomainStatus]] = {}
    for status in statuses:
        by_org.setdefault(status.domain.organization_id, []).append(status)
    regressions = _regressions(cycle_id, [status.domain_id for status in statuses])
    mx_changes = _mx_changes(statuses, now)
    observations = selectors.domain_observations(statuses=statuses)
    outgoing: list[Outgoing] = []
    for org_id, org_statuses in by_org.items():
        contacts = contacts_of.get(org_id, [])
        if not contacts:
            continue
        expiries = _expiries(org_statuses, observations, now)
        for contact in contacts:
            email = contact.email.lower()
            for alert in expiries:
                outgoing.append(
                    _outgoing(
                        contact,
                        f"alert:expiry:{alert.sha256}:{alert.threshold}:{email}",
                        "alert-expiry",
                        alert,
                    )
                )
            for status in org_statuses:
                for alert in regressions.get(status.domain_id, []):
                    outgoing.append(
                        _outgoing(
                            contact,
                            f"alert:regression:{alert.change_id}:{email}",
                            "alert-regression",
                            alert,
                        )
                    )
                mx_alert = mx_changes.get(status.domain_id)
                if mx_alert is not None:
                    outgoing.append(
                        _outgoing(
                            contact,
                            f"alert:mx:{status.domain_id}:{mx_alert.version}:{email}",
                            "alert-mx",
                            mx_alert,
                        )
                    )
    return outbox_add(messages=outgoing, now=now)


def _outgoing(contact: Contact, key: str, name: str, alert: object) -> Outgoing:
    context = {
        "alert": alert,
        "contact": contact,
        "organization": contact.organization,
        "organization_url": site_url(
            reverse("organization", kwargs={"slug": contact.organization.slug})
        ),
        "unsubscribe_url": unsubscribe_url(contact),
    }
    return Outgoing(
        dedupe_key=key,
        kind=OutboxMessage.Kind.ALERT,
        to=contact.email,
        rendered=make_message(
            name, context, language=contact.language, headers=list_headers(contact)
        ),
        contact_id=contact.pk,
    )


def _regressions(cycle_id: int, domain_ids: list[int]) -> dict[int, list[RegressionAlert]]:
    found: dict[int, list[RegressionAlert]] = {}
    for pk, domain_id, name, from_level, to_level, at in StatusChange.objects.filter(
        cycle_id=cycle_id, domain_id__in=domain_ids
    ).values_list("pk", "domain_id", "domain__name", "from_level", "to_level", "at"):
        if levels.change_direction(from_level, to_level) == levels.REGRESSION:
            found.setdefault(domain_id, []).append(
                RegressionAlert(pk, name, from_level, to_level, at)
            )
    return found


def _mx_changes(statuses: list[DomainStatus], now: datetime) -> dict[int, MxChangeAlert]:
    """Compare each domain's MX hosts with the set last recorded; record and report changes.

    The first set seen for a domain is recorded silently. A change is claimed with a
    conditional UPDATE on the version, so concurrent checks report it once.
    """
    current = {
        status.domain_id: sorted({mx["host"] for mx in status.mx})
        for status in statuses
        if status.error not in DNS_FAILURES
    }
    MxSetSeen.objects.bulk_create(
        [MxSetSeen(domain_id=pk, hosts=hosts, updated=now) for pk, hosts in current.items()],
        ignore_conflicts=True,
    )
    names = {status.domain_id: status.domain.name for status in statuses}
    found = {}
    for pk, hosts, version in MxSetSeen.objects.filter(pk__in=list(current)).values_list(
        "pk", "hosts", "version"
    ):
        if sorted(hosts) == current[pk]:
            continue
        moved = MxSetSeen.objects.filter(pk=pk, version=version).update(
            hosts=current[pk], version=version + 1, updated=now
        )
        if moved:
            found[pk] = MxChangeAlert(
                names[pk], version + 1, tuple(sorted(hosts)), tuple(current[pk])
            )
    return found


def _expiries(
    statuses: list[DomainStatus],
    observations: dict[int, list],
    now: datetime,
) -> list[ExpiryAlert]:
    hosts: dict[str, set[str]] = {}
    domains: dict[str, set[str]] = {}
    certificates = {}
    for status in statuses:
        in_use = certificates_in_use(status, observations.get(status.domain_id, []))
        for host, certificate, _ in in_use:
            certificates[certificate.sha256] = certificate
            hosts.setdefault(certificate.sha256, set()).add(host)
            domains.setdefault(certificate.sha256, set()).add(status.domain.name)
    alerts = []
    for sha256, certificate in certificates.items():
        days_left = (certificate.not_after - now).days
        threshold = expiry_threshold(days_left)
        if threshold is not None:
            alerts.append(
                ExpiryAlert(
                    sha256,
                    certificate.not_after,
                    days_left,
                    threshold,
                    tuple(sorted(hosts[sha256])),
                    tuple(sorted(domains[sha256])),
                )
            )
    return sorted(alerts, key=lambda alert: (alert.days_left, alert.hosts))
