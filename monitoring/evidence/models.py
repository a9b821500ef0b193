"""What the receiver stores: test addresses, observed messages, and SMTP TLS reports."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import MailDomain, Organization


class OutboundAddress(models.Model):
    """The organization's test address `<token>@<receiver domain>`; the token never changes."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="outbound_address"
    )
    # Unguessable so that only the organization's members (who see it) send to it.
    token = models.CharField(max_length=40, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outbound test address")
        verbose_name_plural = _("outbound test addresses")

    def __str__(self) -> str:
        return f"{self.token} ({self.organization})"


class ReceivedMessage(models.Model):
    """How one message to a test address arrived; never its content."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="received_messages"
    )
    received_at = models.DateTimeField(default=timezone.now)
    client_ip = models.GenericIPAddressField()
    helo = models.CharField(max_length=255, blank=True)
    mail_from_domain = models.CharField(max_length=253, blank=True)
    # Empty when the message came in plain text (exported as null).
    tls_version = models.CharField(max_length=16, blank=True)
    cipher = models.CharField(max_length=100, blank=True)
    spf_result = models.CharField(max_length=16)
    dkim_result = models.CharField(max_length=16)
    dkim_domain = models.CharField(max_length=253, blank=True)
    # SPF pass or a valid DKIM signature for one of the organization's registered domains.
    authenticated = models.BooleanField(default=False)
    auth_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["organization", "-received_at"])]
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")

    def __str__(self) -> str:
        return f"{self.client_ip} → {self.organization} at {self.received_at:%Y-%m-%d %H:%M}"


class TlsReport(models.Model):
    """One SMTP TLS report (RFC 8460), stored once per organization-name and report-id."""

    class Channel(models.TextChoices):
        MAIL = "mail", _("mail")
        HTTP = "http", _("HTTPS POST")
        FILE = "file", _("file import")

    organization_name = models.CharField(max_length=255)
    report_id = models.CharField(max_length=255)
    contact_info = models.CharField(max_length=255, blank=True)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    # Client address (mail, HTTP) or file name (import): where the report came from.
    source = models.CharField(max_length=255, blank=True)
    # Mailed reports only (RFC 8460 §3 asks senders to sign them); blank for the other channels.
    dkim_result = models.CharField(max_length=16, blank=True)
    dkim_domain = models.CharField(max_length=253, blank=True)

    class Meta:
        ordering = ["-end_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization_name", "report_id"], name="tlsreport_unique_report"
            )
        ]
        verbose_name = _("SMTP TLS report")
        verbose_name_plural = _("SMTP TLS reports")

    def __str__(self) -> str:
        return f"{self.organization_name} {self.report_id}"


class TlsReportPolicy(models.Model):
    """One `policies` entry of a report, kept only for domains in the registry."""

    report = models.ForeignKey(TlsReport, on_delete=models.CASCADE, related_name="policies")
    domain = models.ForeignKey(
        MailDomain, on_delete=models.CASCADE, related_name="tls_report_policies"
    )
    policy_type = models.CharField(max_length=16)
    policy_string = models.JSONField(default=list, blank=True)
    mx_host = models.JSONField(default=list, blank=True)
    successful = models.BigIntegerField()
    failed = models.BigIntegerField()

    class Meta:
        verbose_name = _("TLS report policy")
        verbose_name_plural = _("TLS report policies")

    def __str__(self) -> str:
        return f"{self.domain} {self.policy_type}: {self.successful} ok, {self.failed} failed"


class TlsReportFailure(models.Model):
    """One `failure-details` entry of a policy."""

    policy = models.ForeignKey(TlsReportPolicy, on_delete=models.CASCADE, related_name="failures")
    result_type = models.CharField(max_length=40)
    sending_mta_ip = models.GenericIPAddressField(null=True, blank=True)
    receiving_mx_hostname = models.CharField(max_length=255, blank=True)
    receiving_mx_helo = models.CharField(max_length=255, blank=True)
    receiving_ip = models.GenericIPAddressField(null=True, blank=True)
    count = models.BigIntegerField()
    failure_reason_code = models.CharField(max_length=255, blank=True)
    additional_information = models.CharField(max_length=1000, blank=True)

    class Meta:
        verbose_name = _("TLS report failure")
        verbose_name_plural = _("TLS report failures")

    def __str__(self) -> str:
        return f"{self.result_type} × {self.count}"


class OutboundCoverage(models.Model):
    """How many active organizations sent how, once a day: the overview's outbound trend."""

    day = models.DateField(unique=True)
    tls = models.PositiveIntegerField(default=0)
    legacy_tls = models.PositiveIntegerField(default=0)
    plaintext = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.tls} tls, {self.plaintext} plaintext, {self.unknown} unknown"

    @property
    def total(self) -> int:
        return self.tls + self.legacy_tls + self.plaintext + self.unknown

    @property
    def observed_percent(self) -> float:
        """Share of organizations whose sending was observed at all."""
        return 100 * (self.total - self.unknown) / self.total if self.total else 0.0
