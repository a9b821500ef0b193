"""URL routes of the dashboard."""

from __future__ import annotations

from django.urls import path

from monitoring.dashboard.views import accounts, matrix, organizations, overview, partners

urlpatterns = [
    path("", overview.home, name="home"),
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("partners/", partners.my_partners, name="my-partners"),
    path("matrix/", matrix.matrix, name="matrix"),
    path("matrix.csv", matrix.matrix_export, name="matrix-export"),
    path("matrix/<slug:a>/<slug:b>/", matrix.pair, name="pair"),
    path("orgs.csv", overview.organizations_export, name="organizations-export"),
    path("orgs/<slug:slug>/", organizations.organization, name="organization"),
    path("orgs/<slug:slug>/probe/", organizations.organization_probe, name="organization-probe"),
    path(
        "orgs/<slug:slug>/probe/<int:cycle_id>/",
        organizations.probe_progress,
        name="probe-progress",
    ),
    path("orgs/<slug:slug>/enforce/", organizations.enforce, name="enforce"),
]
