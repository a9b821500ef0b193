"""URL routes of notifications: the unsubscribe page of digests and alerts."""

from __future__ import annotations

from django.urls import path

from monitoring.notifications import views

urlpatterns = [
    path("email/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
