"""Only a declared proxy is believed about https and the client's address."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

PROXIED = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}


@override_settings(SECMAIL_TRUSTED_PROXIES=["10.0.0.2"], SECURE_SSL_REDIRECT=True, **PROXIED)
def test_it_ignores_a_forwarded_proto_claimed_by_a_direct_client(client) -> None:
    direct = client.get(
        "/accounts/login/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https"
    )
    assert direct.status_code == 301  # still plain http: sent to https
    proxied = client.get("/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200


@override_settings(SECMAIL_TRUSTED_PROXIES=[], SECURE_SSL_REDIRECT=True, **PROXIED)
def test_it_believes_nobody_when_no_proxy_is_declared(client) -> None:
    claimed = client.get(
        "/accounts/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https"
    )
    assert claimed.status_code == 301
