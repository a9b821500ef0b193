"""Admin pages of the evidence room: read-only views of what the receiver recorded."""

from __future__ import annotations

from django.contrib import admin

from monitoring.evidence.models import (
    OutboundAddress,
    ReceivedMessage,
    TlsReport,
    TlsReportFailure,
    TlsReportPolicy,
)


@admin.register(OutboundAddress)
class OutboundAddressAdmin(admin.ModelAdmin):
    list_display = ["organization", "token", "created"]
    search_fields = ["organization__name", "token"]
    readonly_fields = ["token", "created"]


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "organization",
        "client_ip",
        "helo",
        "tls_version",
        "spf_result",
        "dkim_result",
        "authenticated",
    ]
    list_filter = ["authenticated", "tls_version"]
    search_fields = ["organization__name", "client_ip", "helo", "mail_from_domain"]

    def has_add_permission(self, request: object) -> bool:
        return False  # only the receiver records what it saw

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


class TlsReportPolicyInline(admin.TabularInline):
    model = TlsReportPolicy
    extra = 0
    fields = ["domain", "policy_type", "successful", "failed"]
    readonly_fields = fields
    can_delete = False


@admin.register(TlsReport)
class TlsReportAdmin(admin.ModelAdmin):
    list_display = ["organization_name", "report_id", "end_at", "channel", "dkim_result"]
    list_filter = ["channel", "dkim_result"]
    search_fields = ["organization_name", "report_id"]
    inlines = [TlsReportPolicyInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TlsReportFailure)
class TlsReportFailureAdmin(admin.ModelAdmin):
    list_display = ["policy", "result_type", "receiving_mx_hostname", "count"]
    list_filter = ["result_type"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
