"""URL routes of the dashboard."""

from __future__ import annotations

from django.urls import path

from monitoring import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login, name="login"),
    path("partners/", views.my_partners, name="my-partners"),
    path("matrix/", views.matrix, name="matrix"),
    path("matrix.csv", views.matrix_export, name="matrix-export"),
    path("matrix/<slug:a>/<slug:b>/", views.pair, name="pair"),
    path("orgs.csv", views.organizations_export, name="organizations-export"),
    path("orgs/<slug:slug>/", views.organization, name="organization"),
    path("orgs/<slug:slug>/probe/", views.organization_probe, name="organization-probe"),
    path("orgs/<slug:slug>/probe/<int:cycle_id>/", views.probe_progress, name="probe-progress"),
    path("orgs/<slug:slug>/enforce/", views.enforce, name="enforce"),
    path("headers/", views.headers, name="headers"),
]
