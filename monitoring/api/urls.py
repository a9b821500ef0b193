"""URL routes of the API and of the token page."""

from __future__ import annotations

from django.urls import path

from monitoring.api import views
from monitoring.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("account/tokens/", views.tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="api-token-revoke"),
]
