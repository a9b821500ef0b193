"""URL routes of the Received-header analyzer."""

from __future__ import annotations

from django.urls import path

from monitoring.headers import views

urlpatterns = [
    path("headers/", views.headers, name="headers"),
]
