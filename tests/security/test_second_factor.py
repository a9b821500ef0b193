"""Staff and organization admins pass a second factor (TOTP or a recovery code) first."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

REQUIRED = override_settings(SECMAIL_SECOND_FACTOR=True)


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def _enrol(client, user) -> list[str]:
    page = client.get("/account/second-factor/")
    assert b"data:image/svg+xml" in page.content
    done = client.post("/account/second-factor/", {"code": _code(user), "next": "/"})
    assert done.status_code == 200
    return re.findall(r"<code>([a-z0-9]+)</code>", done.content.decode())


@REQUIRED
def test_it_sends_staff_to_enrol_before_any_page(client, personas) -> None:
    client.force_login(personas.staff)
    for path in ("/", "/admin/", "/registry/import/", "/matrix/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/second-factor/?next="), path
    codes = _enrol(client, personas.staff)
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


@REQUIRED
def test_it_asks_for_a_code_at_the_next_login(client, personas) -> None:
    client.force_login(personas.staff)
    _enrol(client, personas.staff)
    client.logout()
    client.force_login(personas.staff)
    assert client.get("/").status_code == 302
    wrong = client.post("/account/second-factor/", {"code": "000000"})
    assert b"did not match" in wrong.content
    # The enrolment used this time step, and the wrong code started django-otp's back-off.
    TOTPDevice.objects.filter(user=personas.staff).update(last_t=-1, throttling_failure_count=0)
    ok = client.post("/account/second-factor/", {"code": _code(personas.staff), "next": "/"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/").status_code == 200


@REQUIRED
def test_it_takes_each_recovery_code_once(client, personas) -> None:
    client.force_login(personas.alice)
    codes = _enrol(client, personas.alice)
    client.logout()
    client.force_login(personas.alice)
    used = client.post("/account/second-factor/", {"code": codes[0], "next": "/partners/"})
    assert used["Location"] == "/partners/"
    client.logout()
    client.force_login(personas.alice)
    again = client.post("/account/second-factor/", {"code": codes[0]})
    assert again.status_code == 200 and b"did not match" in again.content


@REQUIRED
def test_it_requires_it_of_organization_admins_unless_relaxed(client, personas) -> None:
    client.force_login(personas.alice)
    assert client.get("/partners/").status_code == 302
    with override_settings(SECMAIL_SECOND_FACTOR_ORG_ADMINS=False):
        assert client.get("/partners/").status_code == 200
        client.force_login(personas.staff)
        assert client.get("/").status_code == 302  # never relaxed for staff


@REQUIRED
def test_it_leaves_viewers_alone(client, personas) -> None:
    client.force_login(personas.bob)
    assert client.get("/partners/").status_code == 200


def test_it_needs_none_in_the_debug_demo(client, personas, settings) -> None:
    # settings.py: SECMAIL_SECOND_FACTOR = not DEBUG; the suite runs it off like the demo.
    settings.SECMAIL_SECOND_FACTOR = False
    client.force_login(personas.staff)
    assert client.get("/").status_code == 200


def test_it_is_on_whenever_debug_is_off() -> None:
    import subprocess
    import sys

    script = "from django.conf import settings; print(settings.SECMAIL_SECOND_FACTOR)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={
            "DJANGO_SETTINGS_MODULE": "secmail.settings",
            "DEBUG": "0",
            "SECRET_KEY": "k" * 60,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"
