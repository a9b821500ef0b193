"""Chromium enrols an authenticator app, logs in again with a code, and switches language."""

from __future__ import annotations

import base64
import os

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.dashboard.test_browser import browser, page  # noqa: F401 - pytest fixtures

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_from_secret(secret: str) -> str:
    # What an authenticator app does with the secret shown on the page (RFC 6238, 30 s, 6 digits).
    return f"{totp(base64.b32decode(secret)):06d}"


def _log_in(page, persona, password) -> None:  # noqa: F811
    page.goto("/accounts/login/")
    page.fill("#id_username", persona.username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


@override_settings(SECMAIL_SECOND_FACTOR=True)
def test_it_enrols_and_uses_an_authenticator_app(page, personas) -> None:  # noqa: F811
    _log_in(page, personas.staff, personas.password)
    page.wait_for_url("**/account/second-factor/**")
    assert page.locator("img.qr").get_attribute("src").startswith("data:image/svg+xml")
    secret = page.locator("#otp-secret").inner_text()
    page.fill("#id_code", _code_from_secret(secret))
    page.click("main button[type=submit]")
    assert page.locator(".recovery-codes li").count() == 10
    page.click("text=Continue")
    page.wait_for_url(lambda url: "second-factor" not in url)
    assert page.locator("h1").first.inner_text() != "Second factor"

    # Log out, log in again: the code comes from the same secret (the next time step, since
    # a code is accepted once).
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/accounts/login/**")
    _log_in(page, personas.staff, personas.password)
    page.wait_for_url("**/account/second-factor/**")
    assert page.locator("#otp-secret").count() == 0
    TOTPDevice.objects.filter(user=personas.staff).update(last_t=-1)
    page.fill("#id_code", _code_from_secret(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "second-factor" not in url)

    # The language switcher submits without an inline handler (CSP forbids one).
    # Waiting for the navigation the change starts: a bare wait_for_load_state can return on
    # the page that is still showing, before the form's submission has even begun.
    with page.expect_navigation():
        page.select_option("select[name=language]", "fr-ca")
    assert page.locator("html").get_attribute("lang") == "fr-ca"
