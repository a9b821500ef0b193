"""Admin page of explanations and accepted exceptions: history to read, never to rewrite."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from monitoring.explanations.models import Explanation


@admin.register(Explanation)
class ExplanationAdmin(admin.ModelAdmin):
    list_display = ["organization", "kind", "target_date", "author", "created"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "text"]
    date_hierarchy = "created"

    # Every version is kept as written (comply or explain): they are made on the pages.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
