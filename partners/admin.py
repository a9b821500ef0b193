"""Django admin for the partner registry: search, filters, and inlines on the organization."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from partners.models import Contact, MailDomain, Membership, Organization, Partnership


class MailDomainInline(admin.TabularInline):
    model = MailDomain
    extra = 0
    fields = ["name", "active"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "email", "role", "digest", "language"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "province", "active", "updated"]
    list_filter = ["kind", "province", "active"]
    search_fields = ["name", "slug", "external_id", "domains__name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created", "updated"]
    inlines = [MailDomainInline, ContactInline, MembershipInline]


@admin.register(MailDomain)
class MailDomainAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "active", "created"]
    list_filter = ["active", "organization__kind"]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "organization", "role", "digest", "language"]
    list_filter = ["role", "digest", "language"]
    search_fields = ["email", "name", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]


class PartnershipForm(forms.ModelForm):
    class Meta:
        model = Partnership
        fields = ["org_a", "org_b"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        a, b = cleaned.get("org_a"), cleaned.get("org_b")
        if a and b:
            if a.pk == b.pk:
                raise ValidationError("An organization cannot partner with itself.")
            # People pick the two sides in any order; the table stores the lower id first.
            if a.pk > b.pk:
                cleaned["org_a"], cleaned["org_b"] = b, a
                self.instance.org_a, self.instance.org_b = b, a
        return cleaned


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    form = PartnershipForm
    list_display = ["org_a", "org_b", "created"]
    search_fields = ["org_a__name", "org_b__name"]
    autocomplete_fields = ["org_a", "org_b"]
    list_select_related = ["org_a", "org_b"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]
