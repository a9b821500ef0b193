"""Storing what the probe found: statuses, changes, certificates, observations, org levels."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, DataError, connection, transaction
from django.db.models import F
from django.utils import timezone

from monitoring import levels
from monitoring.cycles import cycle_finish_if_done, ensure_statuses
from monitoring.models import (
    Certificate,
    CycleDomain,
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    ProbeCycle,
    StatusChange,
)
from monitoring.probe import CertificateInfo, DomainResult, MxResult, ProbeConfig, probe_domains
from monitoring.probe_config import probe_config
from monitoring.schedule import lease_renewal, next_due
from monitoring.signals import batch_stored
from partners.models import MailDomain, Organization

logger = logging.getLogger(__name__)


# -- running and storing a batch --------------------------------------------------------------


def _text(value: str | None, limit: int | None = None) -> str:
    """Text from a remote server as PostgreSQL can store it: no NUL, bounded length.

    A hostile SMTP server can send anything; PostgreSQL text and JSON refuse NUL bytes.
    """
    if not value:
        return ""
    value = value.replace("\x00", "\ufffd")
    return value[:limit] if limit else value


def _texts(values: Iterable[str], limit: int = 1000) -> list[str]:
    return [_text(value, limit) for value in values]


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    stored: int  # entries of the cycle this call processed
    skipped: int  # results another run already stored (duplicate or retried batch)
    changes: int
    certificates: int
    observations: int


def cycle_batch_run(
    *, cycle_id: int, domain_ids: Sequence[int], config: ProbeConfig | None = None
) -> StoreOutcome:
    """Probe the batch's domains still waiting in the cycle and store what the probe found."""
    waiting = list(
        CycleDomain.objects.filter(
            cycle_id=cycle_id, domain_id__in=domain_ids, processed_at__isnull=True
        ).values_list("domain_id", "domain__name")
    )
    if not waiting:
        return StoreOutcome(0, len(domain_ids), 0, 0, 0)
    if config is None:
        config = probe_config()
    ids = [pk for pk, _ in waiting]
    with _lease(cycle_id, ids, every=lease_renewal().total_seconds()):
        results = probe_domains([name for _, name in waiting], config)
    cycle = ProbeCycle.objects.get(pk=cycle_id)
    try:
        outcome = domain_results_store(cycle=cycle, results=results, domain_ids=ids)
    except DataError:
        # A result the database refuses must neither hold back the rest of the batch nor
        # come back forever: store one by one, and give up on what still fails.
        logger.exception("cycle %s: storing a batch failed; storing one domain at a time", cycle_id)
        outcome = _store_one_by_one(cycle, results, ids)
    cycle_finish_if_done(cycle_id=cycle_id)
    return outcome


def _lease_renew(cycle_id: int, domain_ids: Sequence[int]) -> int:
    return CycleDomain.objects.filter(
        cycle_id=cycle_id, domain_id__in=domain_ids, processed_at__isnull=True
    ).update(enqueued_at=timezone.now())


@contextmanager
def _lease(cycle_id: int, domain_ids: Sequence[int], *, every: float) -> Iterator[None]:
    """Show the tick that the batch's domains are being probed: now, then every `every` s.

    The tick resends entries silent for SECMAIL_STALL_MINUTES; a batch runs up to its time
    limit (minutes), so without renewals a live batch would look dead, and a dead one would
    be noticed only after the time limit. The renewals run in a thread of their own (with its
    own database connection) while the probe holds this one's event loop.
    """
    _lease_renew(cycle_id, domain_ids)
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(every):
                _lease_renew(cycle_id, domain_ids)
        except DatabaseError:
            # The tick may resend the batch; a duplicate stores nothing twice.
            logger.warning("cycle %s: cannot renew a batch's lease", cycle_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-cycle-{cycle_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _store_one_by_one(
    cycle: ProbeCycle, results: Sequence[DomainResult], domain_ids: Sequence[int]
) -> StoreOutcome:
    totals = [0, 0, 0, 0, 0]
    for domain_id, result in zip(domain_ids, results, strict=True):
        try:
            outcome = domain_results_store(cycle=cycle, results=[result], domain_ids=[domain_id])
        except DataError:
            logger.exception(
                "cycle %s: cannot store %s; leaving it as it was", cycle.pk, result.domain
            )
            outcome = StoreOutcome(0, 0, 0, 0, 0)
            with transaction.atomic():
                skipped = CycleDomain.objects.filter(
                    cycle=cycle, domain_id=domain_id, processed_at__isnull=True
                ).update(processed_at=timezone.now(), level="")
                ProbeCycle.objects.filter(pk=cycle.pk).update(done=F("done") + skipped)
        for i, value in enumerate(
            (
                outcome.stored,
                outcome.skipped,
                outcome.changes,
                outcome.certificates,
                outcome.observations,
            )
        ):
            totals[i] += value
    return StoreOutcome(*totals)


def domain_results_store(
    *,
    cycle: ProbeCycle,
    results: Sequence[DomainResult],
    domain_ids: Sequence[int] | None = None,
) -> StoreOutcome:
    """Store a batch of results in one transaction, exactly once per (cycle, domain).

    `domain_ids` pairs each result with its MailDomain (by position); without it results are
    matched by domain name. Locks, always in this order so concurrent batches cannot
    deadlock: the batch's cycle entries (the claim), the organizations' statuses, the domains'
    statuses. A result older than the stored one (a late duplicate) is claimed but changes
    nothing.
    """
    now = timezone.now()
    if domain_ids is None:
        by_name = dict(
            MailDomain.objects.filter(name__in=[r.domain for r in results]).values_list(
                "name", "pk"
            )
        )
        pairs = [(by_name[r.domain], r) for r in results if r.domain in by_name]
    else:
        pairs = list(zip(domain_ids, results, strict=True))
    by_domain = dict(pairs)
    with transaction.atomic():
        claimed = list(
            CycleDomain.objects.filter(
                cycle=cycle, domain_id__in=by_domain, processed_at__isnull=True
            )
            .order_by("pk")
            .select_for_update(of=("self",))
            .values_list("pk", "domain_id", "domain__organization_id")
        )
        if not claimed:
            return StoreOutcome(0, len(by_domain), 0, 0, 0)
        org_ids = sorted({org for _, _, org in claimed})
        OrganizationStatus.objects.bulk_create(
            [OrganizationStatus(organization_id=pk) for pk in org_ids], ignore_conflicts=True
        )
        list(
            OrganizationStatus.objects.filter(pk__in=org_ids)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        claimed_domains = [domain_id for _, domain_id, _ in claimed]
        ensure_statuses(claimed_domains)
        current = {
            status.domain_id: status
            for status in DomainStatus.objects.filter(domain_id__in=claimed_domains)
            .order_by("domain_id")
            .select_for_update()
        }
        fresh = [
            (domain_id, by_domain[domain_id])
            for domain_id in claimed_domains
            if current[domain_id].checked_at is None
            or current[domain_id].checked_at < by_domain[domain_id].checked_at
        ]
        cert_ids = _certificates_store([result for _, result in fresh], now)
        observations = _observations_store(cycle, [result for _, result in fresh], cert_ids)
        statuses, changes, moved_orgs = [], [], set()
        organization_of = {domain_id: org for _, domain_id, org in claimed}
        for domain_id, result in fresh:
            status, change = _status_from_result(current[domain_id], result, cycle, cert_ids)
            statuses.append(status)
            if change is not None:
                changes.append(change)
                if change.level_changed:
                    moved_orgs.add(organization_of[domain_id])
        DomainStatus.objects.bulk_create(
            statuses,
            update_conflicts=True,
            unique_fields=["domain"],
            update_fields=STATUS_FIELDS,
            batch_size=1000,
        )
        StatusChange.objects.bulk_create(changes, batch_size=1000)
        entries = [
            CycleDomain(
                pk=pk,
                processed_at=now,
                level=str(by_domain[domain_id].level),
            )
            for pk, domain_id, _ in claimed
        ]
        CycleDomain.objects.bulk_update(entries, ["processed_at", "level"], batch_size=1000)
        ProbeCycle.objects.filter(pk=cycle.pk).update(
            done=F("done") + len(claimed), progressed_at=now
        )
        if moved_orgs:
            organization_levels_refresh(organization_ids=moved_orgs, now=now)
        if fresh:
            batch_stored.send(
                sender=ProbeCycle, cycle_id=cycle.pk, domain_ids=[pk for pk, _ in fresh]
            )
    return StoreOutcome(
        stored=len(claimed),
        skipped=len(by_domain) - len(claimed),
        changes=len(changes),
        certificates=len(cert_ids),
        observations=observations,
    )


STATUS_FIELDS = [
    "level",
    "warnings",
    "error",
    "checked_at",
    "since",
    "cycle",
    "mx",
    "mx_key",
    "next_due_at",
    "mta_sts_mode",
    "mta_sts_valid",
    "mta_sts_errors",
    "mta_sts_certificate",
    "dane_tlsa",
    "dane_dnssec",
    "dane_valid",
    "tls_rpt_present",
    "tls_rpt_rua",
]


def _certificates_store(results: Sequence[DomainResult], now: datetime) -> dict[str, int]:
    """Upsert every certificate the batch saw (one row per SHA-256); returns sha256 -> id."""
    infos: dict[str, CertificateInfo] = {}
    for result in results:
        if result.mta_sts.certificate is not None:
            infos.setdefault(result.mta_sts.certificate.sha256, result.mta_sts.certificate)
        for mx in result.mx:
            for address in mx.addresses:
                if address.certificate is not None:
                    infos.setdefault(address.certificate.sha256, address.certificate)
    if not infos:
        return {}
    rows = [
        Certificate(
            sha256=info.sha256,
            subject=_text(info.subject),
            san=_texts(info.san),
            issuer=_text(info.issuer),
            not_before=info.not_before,
            not_after=info.not_after,
            key=_text(info.key, 32),
            signature_algorithm=_text(info.signature_algorithm, 64),
            self_signed=info.self_signed,
            der=info.chain_der[0] if info.chain_der else b"",
            first_seen=now,
            last_seen=now,
        )
        for info in infos.values()
    ]
    # One statement: new certificates inserted, known ones get last_seen; ids come back.
    Certificate.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["sha256"], update_fields=["last_seen"]
    )
    ids = {row.sha256: row.pk for row in rows if row.pk is not None}
    if len(ids) < len(rows):  # databases that cannot return ids from an upsert
        ids = dict(Certificate.objects.filter(sha256__in=list(infos)).values_list("sha256", "pk"))
    return ids


def _observations_store(
    cycle: ProbeCycle, results: Sequence[DomainResult], cert_ids: dict[str, int]
) -> int:
    rows: dict[tuple[str, str], HostObservation] = {}
    for result in results:
        for mx in result.mx:
            for address in mx.addresses:
                key = (mx.host, address.ip or "")
                if key in rows:
                    continue  # the probe shares one (host, address) dialogue between domains
                cert = address.certificate
                rows[key] = HostObservation(
                    cycle=cycle,
                    host=mx.host,
                    ip=address.ip or "",
                    observed_at=result.checked_at,
                    tested=address.tested,
                    starttls=address.starttls,
                    tls_version=_text(address.tls_version, 16),
                    cipher=_text(address.cipher, 100),
                    error=_text(address.error or mx.error, 64),
                    smtp_reply=_text(address.smtp_reply, 2000),
                    extensions=_texts(address.extensions[:50], 200),
                    certificate_id=cert_ids.get(cert.sha256) if cert else None,
                    cert_trusted=cert.trusted if cert else None,
                    cert_hostname_match=cert.hostname_match if cert else None,
                    cert_errors=_texts(cert.errors) if cert else [],
                    dane_match=address.dane_match,
                )
    # A host seen again in the same cycle (another batch, or this batch retried) keeps its
    # first observation: unique (cycle, host, ip).
    HostObservation.objects.bulk_create(list(rows.values()), ignore_conflicts=True, batch_size=1000)
    return len(rows)


def mx_summary(mx_results: Iterable[MxResult]) -> list[dict[str, object]]:
    """A domain's MX hosts as DomainStatus.mx stores them (also used by the synthetic industry)."""
    return [
        {
            "host": mx.host,
            "preference": mx.preference,
            "implicit": mx.implicit,
            "error": _text(mx.error, 64) or None,
            "addresses": [address.ip or "" for address in mx.addresses],
        }
        for mx in mx_results
    ]


def mx_key(domain: str, mx_results: Iterable[MxResult]) -> str:
    """The scheduling key of a domain: its most preferred MX host, else the domain itself."""
    found = min(mx_results, key=lambda mx: (mx.preference, mx.host), default=None)
    return found.host if found is not None else domain


def _status_from_result(
    old: DomainStatus, result: DomainResult, cycle: ProbeCycle, cert_ids: dict[str, int]
) -> tuple[DomainStatus, StatusChange | None]:
    level = str(result.level)
    warnings = sorted(set(result.warnings))
    old_warnings = sorted(set(old.warnings or []))
    change = None
    if level != old.level or warnings != old_warnings:
        change = StatusChange(
            domain_id=old.domain_id,
            cycle=cycle,
            at=result.checked_at,
            from_level=old.level,
            to_level=level,
            warnings_added=sorted(set(warnings) - set(old_warnings)),
            warnings_removed=sorted(set(old_warnings) - set(warnings)),
        )
    key = mx_key(result.domain, result.mx)
    sts_cert = result.mta_sts.certificate
    status = DomainStatus(
        domain_id=old.domain_id,
        level=level,
        warnings=warnings,
        error=_text(result.error, 64),
        checked_at=result.checked_at,
        since=result.checked_at if level != old.level else old.since,
        cycle=cycle,
        mx=mx_summary(result.mx),
        mx_key=key,
        next_due_at=next_due(result.checked_at, key),
        mta_sts_mode=_text(result.mta_sts.mode, 16),
        mta_sts_valid=result.mta_sts.valid,
        mta_sts_errors=_texts(result.mta_sts.errors),
        mta_sts_certificate_id=cert_ids.get(sts_cert.sha256) if sts_cert else None,
        dane_tlsa=result.dane.tlsa,
        dane_dnssec=result.dane.dnssec,
        dane_valid=result.dane.valid,
        tls_rpt_present=result.tls_rpt.present,
        tls_rpt_rua=_texts(result.tls_rpt.rua),
    )
    return status, change


# -- organizations ------------------------------------------------------------------------------


def organization_levels_refresh(
    *, organization_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Recompute inbound levels (monitoring.levels) from the domains; returns how many moved.

    Called by the batch for organizations whose domains changed level, and daily for all, so
    that domains added, removed or deactivated elsewhere are reflected within a day.
    """
    now = now or timezone.now()
    organizations = Organization.objects.all()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=list(organization_ids))
    domain_levels: dict[int, list[str | None]] = {
        pk: [] for pk in organizations.values_list("pk", flat=True)
    }
    rows = MailDomain.objects.filter(
        organization__in=organizations.values("pk"), active=True
    ).values_list("organization_id", "status__level")
    for organization_id, level in rows:
        domain_levels[organization_id].append(level)
    current = dict(
        OrganizationStatus.objects.filter(pk__in=list(domain_levels)).values_list("pk", "level")
    )
    moved = []
    for organization_id, found in domain_levels.items():
        level = levels.inbound_level(found)
        value = str(level) if level is not None else ""
        # A missing row reads as "not checked", which is what it would hold.
        if current.get(organization_id, "") != value:
            moved.append(
                OrganizationStatus(
                    organization_id=organization_id, level=value, since=now, updated=now
                )
            )
    OrganizationStatus.objects.bulk_create(
        moved,
        update_conflicts=True,
        unique_fields=["organization"],
        update_fields=["level", "since", "updated"],
        batch_size=1000,
    )
    return len(moved)


# -- retention ----------------------------------------------------------------------------------


def observations_prune(*, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Delete observations (and bookkeeping of finished cycles) older than the retention period.

    Certificates and status changes are history and stay.
    """
    now = now or timezone.now()
    keep_days = keep_days or settings.SECMAIL_KEEP_OBSERVATIONS_DAYS
    cutoff = now - timedelta(days=keep_days)
    deleted, _ = HostObservation.objects.filter(observed_at__lt=cutoff).delete()
    CycleDomain.objects.filter(cycle__finished__lt=cutoff).delete()
    return deleted
