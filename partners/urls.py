"""URL routes of the partner registry."""

from __future__ import annotations

from django.urls import path

from partners import views

urlpatterns = [
    path("registry/import/", views.registry_import, name="registry-import"),
    path("registry/export.csv", views.registry_export, name="registry-export"),
]
