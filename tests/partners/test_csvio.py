"""Tests for partners.csvio: all-or-nothing, idempotent import and lossless export."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from partners import csvio
from partners.csvio import export_partners, import_partners
from partners.models import Contact, MailDomain, Organization, Partnership
from partners.services import organization_create

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "organization,kind,province,domains,contacts,partners\n"


def run_import(text: str | bytes, **kwargs: bool) -> csvio.ImportReport:
    data = text.encode() if isinstance(text, str) else text
    return import_partners(io.BytesIO(data), **kwargs)


def good_file() -> bytes:
    return (DATA / "partners-good.csv").read_bytes()


def registry_snapshot() -> tuple[object, ...]:
    return (
        sorted(Organization.objects.values_list("slug", "name", "kind", "province")),
        sorted(MailDomain.objects.values_list("organization__slug", "name")),
        sorted(Contact.objects.values_list("organization__slug", "name", "email")),
        # Unordered pairs: ids, and so which side is org_a, change when rows are recreated.
        sorted(
            sorted(pair) for pair in Partnership.objects.values_list("org_a__slug", "org_b__slug")
        ),
    )


def test_it_imports_the_good_sample() -> None:
    report = run_import(good_file())
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (7, 0, 0)
    assert report.domains_created == 9
    assert report.contacts_created == 6
    # Maple-Rideau, Maple-Courtage, Maple-Laurentian, Laurentian-Courtage,
    # Rideau-Laurentian, Northern-Prairie.
    assert report.partnerships_created == 6
    assert Partnership.objects.count() == 6
    courtage = Organization.objects.get(slug="courtage-saint-laurent")
    assert sorted(courtage.domains.values_list("name", flat=True)) == [
        "courtage-stlaurent.test",
        "xn--assurance-qubec-mnb.test",
    ]
    assert courtage.contacts.get().name == "Marie-Ève Côté"
    assert Organization.objects.get(slug="prairie-shield-assurance").province == "SK"


def test_it_changes_nothing_on_a_second_import() -> None:
    run_import(good_file())
    before = registry_snapshot()
    report = run_import(good_file())
    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 7)
    assert report.domains_created == report.contacts_created == report.partnerships_created == 0
    assert registry_snapshot() == before


def test_it_reports_every_bad_line_and_imports_nothing() -> None:
    report = run_import((DATA / "partners-bad.csv").read_bytes())
    assert not report.ok
    assert Organization.objects.count() == 0
    lines = {(error.line, error.message.split(" ")[0]) for error in report.errors}
    by_line = {error.line: error.message for error in report.errors}
    assert "kind 'reinsurer'" in by_line[3]
    assert "province 'XX'" in by_line[4]
    assert "URL" in by_line[5]
    assert "IP address" in by_line[6]
    assert "also listed on line 2" in by_line[7]
    assert "not a valid email address" in by_line[8]
    assert "neither in this file nor in the registry" in by_line[9]
    assert "its own partner" in by_line[10]
    assert "may not be blank" in by_line[11]  # the model's own rule
    assert "already appears on line 2" in by_line[12]
    assert "port" in by_line[13]
    assert 2 not in by_line
    assert len(lines) == len(report.errors) == 11
    assert report.summary() == "11 error(s); nothing was imported"


def test_it_writes_nothing_in_a_dry_run() -> None:
    report = run_import(good_file(), dry_run=True)
    assert report.ok
    assert report.created == 7
    assert report.partnerships_created == 6
    assert Organization.objects.count() == 0
    assert report.summary().startswith("dry run")


def test_it_refuses_a_domain_owned_by_another_organization_in_the_database() -> None:
    organization_create(name="Old Owner", domains=("taken.test",))
    report = run_import(HEADER + "New Owner,brokerage,ON,TAKEN.test,,\n")
    assert [str(error) for error in report.errors] == [
        "line 2: domain taken.test belongs to 'Old Owner' in the registry"
    ]


def test_it_accepts_partners_already_in_the_database() -> None:
    organization_create(name="Existing Insurer", domains=("existing.test",))
    report = run_import(HEADER + "New Broker,brokerage,ON,new.test,,existing insurer\n")
    assert report.ok, report.errors
    assert Partnership.objects.count() == 1


def test_it_updates_changed_organizations() -> None:
    run_import(good_file())
    changed = good_file().replace(
        b"Industry Association,other,,", b"Industry Association,other,ON,"
    )
    changed = changed.replace(b"Sam Lee <sam@", b"Samuel Lee <sam@")
    changed = changed.replace(b"prairieshield.test,,", b"prairieshield.test;prairie.test,,")
    report = run_import(changed)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 3, 4)
    assert (report.domains_created, report.contacts_updated) == (1, 1)
    assert Organization.objects.get(slug="industry-association").province == "ON"


def test_it_handles_a_bom_and_windows_line_endings() -> None:
    data = b"\xef\xbb\xbf" + good_file().replace(b"\n", b"\r\n")
    report = run_import(data)
    assert report.ok, report.errors
    assert report.created == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("Maple,insurer,ON,maple.test,,\n", "line 1: missing header"),
        ("organization,kind,province,domains\n", "line 1: wrong columns; missing: contacts"),
        (HEADER.replace("kind,province", "province,kind"), "line 1: columns in the wrong order"),
        (HEADER + "Maple,insurer,ON\n", "line 2: expected 6 columns, found 3"),
    ],
)
def test_it_reports_a_malformed_file(text: str, message: str) -> None:
    report = run_import(text)
    assert str(report.errors[0]).startswith(message)


def test_it_rejects_a_file_that_is_not_utf8() -> None:
    report = run_import(HEADER.encode() + "Société,insurer,QC,a.test,,\n".encode("latin-1"))
    assert str(report.errors[0]) == "line 2: the file is not UTF-8 text (save it as 'CSV UTF-8')"


def test_it_rejects_a_file_over_the_size_cap(monkeypatch) -> None:
    monkeypatch.setattr(csvio, "MAX_IMPORT_BYTES", 100)
    report = run_import(good_file())
    assert "larger than" in report.errors[0].message


def test_it_exports_what_it_imported(tmp_path) -> None:
    run_import(good_file())
    out = io.StringIO()
    assert export_partners(out) == 7
    exported = out.getvalue()
    assert exported.startswith(HEADER.strip() + "\r\n")
    assert "Maple Mutual Insurance,insurer,ON,maple-mutual.test;maplemutual.test," in exported
    # The round trip: export, wipe, import the export, export again: identical.
    before = registry_snapshot()
    Organization.objects.all().delete()
    report = run_import(exported)
    assert report.ok, report.errors
    assert registry_snapshot() == before
    again = io.StringIO()
    export_partners(again)
    assert again.getvalue() == exported


def test_it_reimports_its_own_export_without_changes() -> None:
    run_import(good_file())
    out = io.StringIO()
    export_partners(out)
    report = run_import(out.getvalue())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 7)
