"""The audit trail: logins, second factor, imports, exports, probes and registry changes."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import override_settings

from partners.services import organization_create
from secmail.security.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = "organization,kind,province,domains,contacts,partners\n"


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


@override_settings(SECMAIL_TRUSTED_PROXIES=["10.0.0.2"])
def test_it_records_login_success_and_failure_with_the_client_address(client, personas) -> None:
    via_proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    client.post("/accounts/login/", {"username": "nobody@x.example", "password": "x"}, **via_proxy)
    client.post(
        "/admin/login/",
        {"username": personas.staff.username, "password": personas.password},
        **via_proxy,
    )
    failed, success = AuditEvent.objects.order_by("pk")
    assert (failed.action, failed.username, failed.address) == (
        "login-failed",
        "nobody@x.example",
        "203.0.113.9",
    )
    assert (success.action, success.actor, success.address) == (
        "login",
        personas.staff,
        "203.0.113.9",
    )


def test_it_records_imports_exports_and_probe_starts(client, world) -> None:
    client.force_login(world.personas.staff)
    upload = io.BytesIO((HEADER + "Echo Courtage,brokerage,QC,echo.example,,\n").encode())
    upload.name = "registry.csv"
    client.post("/registry/import/", {"file": upload, "dry_run": "on"})
    client.get("/registry/export.csv")
    b"".join(client.get("/orgs.csv").streaming_content)
    b"".join(client.get("/matrix.csv").streaming_content)
    client.post("/orgs/alpha-brokers/probe/")
    assert [a for a in _actions() if a != "login"] == [
        "import",
        "export",
        "export",
        "export",
        "probe-started",
    ]
    assert "dry run" in AuditEvent.objects.get(action="import").detail


def test_it_records_registry_changes_through_auditlog(client, world) -> None:
    client.force_login(world.personas.staff)
    organization_create(name="Foxtrot Mutual", kind="insurer", domains=("foxtrot.example",))
    page = client.get("/audit/", {"action": "change"}).content.decode()
    assert "Foxtrot Mutual" in page
    assert "maildomain foxtrot.example" in page


def test_it_lets_staff_filter_and_export_the_trail(client, world) -> None:
    client.post("/accounts/login/", {"username": "=cmd|x", "password": "x"})
    client.force_login(world.personas.staff)
    page = client.get("/audit/", {"action": "login-failed"}).content.decode()
    assert "=cmd|x" in page
    assert "<td>login-failed</td>" in page
    assert "<td>login</td>" not in page
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get("/audit.csv", {"user": "cmd"}).streaming_content).decode()
            )
        )
    )
    assert rows[0] == ["time", "user", "client_address", "action", "subject", "detail"]
    assert [row[1] for row in rows[1:]] == ["'=cmd|x"]  # neutralised for spreadsheets


def test_it_is_for_staff_only(client, world) -> None:
    assert client.get("/audit/").status_code == 302
    client.force_login(world.personas.alice)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit.csv").status_code == 403


@override_settings(SECMAIL_SECOND_FACTOR=True)
def test_it_records_second_factor_changes(client, personas) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(personas.staff)
    client.get("/account/second-factor/")
    client.post("/account/second-factor/", {"code": "000000"})
    TOTPDevice.objects.filter(user=personas.staff).update(throttling_failure_count=0)
    device = TOTPDevice.objects.get(user=personas.staff)
    client.post("/account/second-factor/", {"code": f"{totp(device.bin_key):06d}"})
    actions = _actions()
    assert "second-factor-failed" in actions
    assert actions[-1] == "second-factor-enrolled"
