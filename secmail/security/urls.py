"""URL routes of the second factor and the audit trail."""

from __future__ import annotations

from django.urls import path

from secmail.security import views

urlpatterns = [
    path("account/second-factor/", views.second_factor, name="second-factor"),
    path("audit/", views.audit_trail, name="audit"),
    path("audit.csv", views.audit_export, name="audit-export"),
]
