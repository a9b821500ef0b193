"""Stored probe results and their history: cycles, observations, certificates, statuses, changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.levels import LevelChoice, OutboundChoice
from partners.models import MailDomain, Organization


class ProbeCycle(models.Model):
    """One round of probing: scheduled (one per SECMAIL_CYCLE_HOURS window), manual or single."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        SINGLE = "single", _("Single organization")

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    # For scheduled cycles: the start of the window they cover (one cycle per window).
    window_start = models.DateTimeField(null=True, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    # Progress for the UI; `done` moves in the same transaction that stores a batch.
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # Last time a batch was stored: a cycle that stops moving has lost batches (see cycle_tick).
    progressed_at = models.DateTimeField(null=True, blank=True)
    # Domains per level once finished, e.g. {"verified": 120, "plaintext": 3}.
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started"]
        constraints = [
            models.UniqueConstraint(
                fields=["window_start"],
                condition=models.Q(trigger="schedule"),
                name="probecycle_one_per_window",
            )
        ]
        indexes = [
            models.Index(
                fields=["started"],
                condition=models.Q(finished__isnull=True),
                name="probecycle_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} cycle {self.pk} ({self.done}/{self.total})"


class CycleDomain(models.Model):
    """A domain's place in a cycle; `processed_at` is the claim that makes batches idempotent."""

    cycle = models.ForeignKey(ProbeCycle, on_delete=models.CASCADE, related_name="entries")
    domain = models.ForeignKey(MailDomain, on_delete=models.CASCADE, related_name="+")
    # When a batch holding this entry was last sent to the broker; re-sent when it stalls.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    level = models.CharField(max_length=16, choices=LevelChoice.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cycle", "domain"], name="cycledomain_unique")
        ]
        indexes = [
            models.Index(
                fields=["enqueued_at"],
                condition=models.Q(processed_at__isnull=True),
                name="cycledomain_pending",
            )
        ]

    def __str__(self) -> str:
        return f"domain {self.domain_id} in cycle {self.cycle_id}"


class Certificate(models.Model):
    """An X.509 certificate as presented by a server, stored once however many hosts use it."""

    sha256 = models.CharField(max_length=64, unique=True)
    subject = models.TextField(blank=True)
    san = models.JSONField(default=list, blank=True)
    issuer = models.TextField(blank=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(db_index=True)
    key = models.CharField(max_length=32, blank=True)
    signature_algorithm = models.CharField(max_length=64, blank=True)
    self_signed = models.BooleanField(default=False)
    der = models.BinaryField(blank=True, default=b"")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.subject or self.sha256[:16]} (until {self.not_after:%Y-%m-%d})"


class HostObservation(models.Model):
    """What one (MX host, address) showed in one cycle, shared by every domain using that host."""

    cycle = models.ForeignKey(ProbeCycle, on_delete=models.CASCADE, related_name="observations")
    host = models.CharField(max_length=253)
    # "" when the host had no address (the error then says why).
    ip = models.CharField(max_length=45, blank=True)
    observed_at = models.DateTimeField(db_index=True)
    tested = models.BooleanField(default=False)
    starttls = models.BooleanField(default=False)
    tls_version = models.CharField(max_length=16, blank=True)
    cipher = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=64, blank=True)
    smtp_reply = models.TextField(blank=True)
    extensions = models.JSONField(default=list, blank=True)
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    # Validation depends on the name asked for, so it belongs here, not on the certificate.
    cert_trusted = models.BooleanField(null=True)
    cert_hostname_match = models.BooleanField(null=True)
    cert_errors = models.JSONField(default=list, blank=True)
    dane_match = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "host", "ip"], name="hostobservation_unique_per_cycle"
            )
        ]
        indexes = [models.Index(fields=["host", "cycle"], name="hostobservation_host")]

    def __str__(self) -> str:
        return f"{self.host} [{self.ip or '-'}] in cycle {self.cycle_id}"

    @property
    def working_starttls(self) -> bool:
        return self.tested and bool(self.tls_version)


class DomainStatus(models.Model):
    """The current verdict of a mail domain; created "not checked" when first scheduled."""

    domain = models.OneToOneField(
        MailDomain, primary_key=True, on_delete=models.CASCADE, related_name="status"
    )
    # "" until the first probe is stored.
    level = models.CharField(max_length=16, choices=LevelChoice.choices, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    cycle = models.ForeignKey(
        ProbeCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [{"host", "preference", "implicit", "error", "addresses": [ip, ...]}]: the keys of this
    # domain's HostObservation rows in `cycle`.
    mx = models.JSONField(default=list, blank=True)
    # Sort and scheduling key: the lowest-preference MX host last seen, so domains sharing a
    # provider land in one batch (probed once) and in the same scheduling slot.
    mx_key = models.CharField(max_length=253, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    mta_sts_mode = models.CharField(max_length=16, blank=True)
    mta_sts_valid = models.BooleanField(null=True)
    mta_sts_errors = models.JSONField(default=list, blank=True)
    mta_sts_certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dane_tlsa = models.BooleanField(default=False)
    dane_dnssec = models.BooleanField(default=False)
    dane_valid = models.BooleanField(null=True)
    tls_rpt_present = models.BooleanField(default=False)
    tls_rpt_rua = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "domain statuses"

    def __str__(self) -> str:
        return f"{self.domain_id}: {self.level or 'not checked'}"


class StatusChange(models.Model):
    """A flip: a domain's level or warnings changed (the first verdict counts as one)."""

    domain = models.ForeignKey(MailDomain, on_delete=models.CASCADE, related_name="changes")
    cycle = models.ForeignKey(
        ProbeCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    from_level = models.CharField(max_length=16, choices=LevelChoice.choices, blank=True)
    to_level = models.CharField(max_length=16, choices=LevelChoice.choices)
    warnings_added = models.JSONField(default=list, blank=True)
    warnings_removed = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["domain", "at"], name="statuschange_domain_at"),
            models.Index(fields=["at"], name="statuschange_at"),
        ]

    def __str__(self) -> str:
        return f"{self.domain_id}: {self.from_level or '-'} -> {self.to_level} at {self.at}"

    @property
    def level_changed(self) -> bool:
        return self.from_level != self.to_level


class OrganizationStatus(models.Model):
    """An organization's inbound level (monitoring.levels), kept current as domains change."""

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="status"
    )
    # "" means not checked: no active domain has been probed.
    level = models.CharField(max_length=16, choices=LevelChoice.choices, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)
    # How its gateways send (levels.OUTBOUND_*), as the receiver observed them; kept current by
    # the evidence room, stored here so the matrix can group pairs by it in SQL.
    outbound = models.CharField(
        max_length=12, choices=OutboundChoice.choices, default=OutboundChoice.UNKNOWN
    )
    # Rate limit for re-probes asked for by people (claimed with a conditional UPDATE).
    last_manual_probe_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "organization statuses"

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.level or 'not checked'}"
