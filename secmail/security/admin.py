"""Admin page of the audit trail's events: read-only, like the trail itself."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from secmail.security.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "username", "address", "detail"]
    list_filter = ["action"]
    search_fields = ["username", "detail", "address"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
