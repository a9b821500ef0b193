"""Admin pages for stored probe results: browse and search, nothing edited by hand."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from monitoring.models import (
    Certificate,
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    ProbeCycle,
    StatusChange,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    # Results come from probes; an edit by hand would be history nobody observed.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ProbeCycle)
class ProbeCycleAdmin(ReadOnlyAdmin):
    list_display = ["id", "trigger", "organization", "started", "finished", "done", "total"]
    list_filter = ["trigger"]
    raw_id_fields = ["organization", "requested_by"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "issuer", "not_after", "key", "last_seen"]
    search_fields = ["sha256", "subject", "issuer"]
    exclude = ["der"]


@admin.register(HostObservation)
class HostObservationAdmin(ReadOnlyAdmin):
    list_display = ["host", "ip", "cycle", "tested", "tls_version", "error", "observed_at"]
    search_fields = ["host", "ip"]
    raw_id_fields = ["cycle", "certificate"]


@admin.register(DomainStatus)
class DomainStatusAdmin(ReadOnlyAdmin):
    list_display = ["domain", "level", "checked_at", "since", "next_due_at"]
    list_filter = ["level"]
    search_fields = ["domain__name"]
    raw_id_fields = ["domain", "cycle", "mta_sts_certificate"]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["domain", "from_level", "to_level", "at"]
    list_filter = ["to_level"]
    search_fields = ["domain__name"]
    raw_id_fields = ["domain", "cycle"]


@admin.register(OrganizationStatus)
class OrganizationStatusAdmin(ReadOnlyAdmin):
    list_display = ["organization", "level", "since", "last_manual_probe_at"]
    list_filter = ["level"]
    search_fields = ["organization__name"]
    raw_id_fields = ["organization"]
