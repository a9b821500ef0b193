"""URL routes of comply-or-explain."""

from __future__ import annotations

from django.urls import path

from monitoring.explanations import views

urlpatterns = [
    path(
        "orgs/<slug:slug>/explain/<str:kind>/",
        views.explain,
        name="organization-explain",
    ),
]
