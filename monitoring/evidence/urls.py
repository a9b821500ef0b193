"""URL routes of the evidence room."""

from __future__ import annotations

from django.urls import path

from monitoring.evidence import views

urlpatterns = [
    path("tlsrpt/", views.tlsrpt_post, name="tlsrpt-post"),
]
