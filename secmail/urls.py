"""URL routes of the whole site."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from monitoring import notify_views
from secmail import views

urlpatterns = [
    # First: the dashboard's login (throttled) must win over django.contrib.auth's.
    path("", include("monitoring.urls")),
    path("", include("partners.urls")),
    path("", include("monitoring.evidence.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("email/<str:token>/", notify_views.unsubscribe, name="unsubscribe"),
]
