"""URL routes of the whole site."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from secmail import views

urlpatterns = [
    # First: the dashboard's login (throttled) must win over django.contrib.auth's.
    path("", include("monitoring.dashboard.urls")),
    path("", include("monitoring.headers.urls")),
    path("", include("monitoring.notifications.urls")),
    path("", include("partners.urls")),
    path("", include("monitoring.evidence.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("monitoring.explanations.urls")),
    path("", include("secmail.security.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
