"""Admin pages of API tokens, explanations and audit events: they load, and keep history as is."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from monitoring.api.models import ApiToken
from monitoring.explanations.models import Explanation
from secmail.security.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, personas):  # noqa: ANN001, ANN201
    superuser = get_user_model().objects.create_superuser("root@example.org", password="x" * 12)
    ApiToken.objects.create(user=personas.alice, name="cron", token_hash="0" * 64, prefix="abc")
    Explanation.objects.create(
        organization=personas.alices_org, text="Hosted mail by spring", author=personas.alice
    )
    AuditEvent.objects.create(action="login-failed", username="bob@example.org")
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", [ApiToken, Explanation, AuditEvent], ids=lambda m: m.__name__)
def test_it_lists_and_searches_without_adding(admin_client, model) -> None:  # noqa: ANN001
    meta = model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    response = admin_client.get(changelist, {"q": "a"})
    assert response.status_code == 200
    add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    assert admin_client.get(add).status_code == 403


def test_it_revokes_tokens_and_never_shows_their_hash(admin_client) -> None:  # noqa: ANN001
    token = ApiToken.objects.get()
    page = admin_client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    assert "0" * 64 not in page.content.decode()
    admin_client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked is not None


def test_it_keeps_explanations_as_written(admin_client) -> None:  # noqa: ANN001
    explanation = Explanation.objects.get()
    url = reverse("admin:explanations_explanation_change", args=[explanation.pk])
    admin_client.post(url, {"text": "rewritten"})
    explanation.refresh_from_db()
    assert explanation.text == "Hosted mail by spring"
    delete = reverse("admin:explanations_explanation_delete", args=[explanation.pk])
    assert admin_client.get(delete).status_code == 403
