"""URL routes of the partner registry."""

from __future__ import annotations

from django.urls import path

from partners import views

urlpatterns = [
    path("registry/import/", views.registry_import, name="registry-import"),
    path("registry/export.csv", views.registry_export, name="registry-export"),
    path("orgs/<slug:slug>/contacts/", views.contacts, name="contacts"),
    path("orgs/<slug:slug>/contacts/<int:contact_id>/", views.contact_edit, name="contact-edit"),
    path(
        "orgs/<slug:slug>/contacts/<int:contact_id>/delete/",
        views.contact_delete,
        name="contact-delete",
    ),
]
