"""Tests for the staff-only CSV upload page at /registry/import/ and the export download."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partners.models import Organization

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data"
URL = "/registry/import/"


def upload(name: str = "partners-good.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")


def test_it_shows_the_form_to_staff(client, staff) -> None:
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content


def test_it_redirects_anonymous_users_to_login(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/registry/import/")


def test_it_forbids_members(client, alice) -> None:
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload()}).status_code == 403
    assert Organization.objects.count() == 2  # the personas' organizations only


def test_it_previews_without_writing(client, staff) -> None:
    client.force_login(staff)
    response = client.post(URL, {"file": upload(), "dry_run": "on"})
    assert response.status_code == 200
    assert b"The file is valid" in response.content
    assert not Organization.objects.filter(slug="maple-mutual-insurance").exists()


def test_it_imports_and_shows_the_counts(client, staff) -> None:
    client.force_login(staff)
    response = client.post(URL, {"file": upload()})
    assert response.status_code == 200
    assert b"Imported." in response.content
    assert response.context["report"].created == 7
    assert Organization.objects.filter(slug="maple-mutual-insurance").exists()


def test_it_lists_line_numbered_errors(client, staff) -> None:
    client.force_login(staff)
    response = client.post(URL, {"file": upload("partners-bad.csv")})
    assert response.status_code == 200
    assert b"nothing was imported" in response.content
    assert b"kind &#x27;reinsurer&#x27;" in response.content
    assert not Organization.objects.filter(slug="maple-mutual-insurance").exists()


def test_it_answers_htmx_with_the_result_fragment_only(client, staff) -> None:
    client.force_login(staff)
    response = client.post(URL, {"file": upload(), "dry_run": "on"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<section id="import-result"')
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_it_exports_csv_to_staff_only(client, staff, alice) -> None:
    client.force_login(alice)
    assert client.get("/registry/export.csv").status_code == 403
    client.force_login(staff)
    response = client.get("/registry/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert b"Alpha Brokers,brokerage,ON,alpha.example" in response.content
