"""The live matrix selectors against a small industry whose every cell is worked out by hand.

Insurers are columns, every other organization a row; only insurer/non-insurer pairs show.

    partnerships            levels                      pair level (lower side)
    Alpha  - Charlie        verified / not checked      not checked
    Alpha  - Delta          verified / partial          partial
    Alpha  - Gamma          verified / verified         verified
    Echo   - Gamma          encrypted / verified        encrypted
    Delta  - Gamma          (two insurers: not in the matrix)
    Alpha  - Echo           (two brokerages: not in the matrix)
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from monitoring.dashboard.selectors import DashboardMatrixFilters, matrix_export_rows, matrix_page
from monitoring.levels import NOT_CHECKED
from monitoring.probe import Level
from partners.models import Kind
from partners.services import partnership_create
from tests.dashboard.conftest import store
from tests.monitoring.factories import T0, organization, result

pytestmark = pytest.mark.django_db


@pytest.fixture
def industry(personas):  # noqa: ANN001, ANN201
    alpha, charlie = personas.alices_org, personas.charlies_org
    delta = organization("Delta Assurance", "delta.example", kind=Kind.INSURER)
    gamma = organization("Gamma Mutual", "gamma.example", kind=Kind.INSURER)
    echo = organization("Echo Brokers", "echo.example")
    for a, b in [(alpha, charlie), (alpha, delta), (alpha, gamma), (echo, gamma)]:
        partnership_create(a, b)
    partnership_create(delta, gamma)
    partnership_create(alpha, echo)
    store(
        T0,
        [
            result("alpha.example", Level.VERIFIED),
            result("delta.example", Level.PARTIAL),
            result("gamma.example", Level.VERIFIED),
            result("echo.example", Level.ENCRYPTED),
        ],
    )
    return personas


def _cells(page) -> list[list[object]]:  # noqa: ANN001
    """Each row as its segments: (column name, level) for a cell, an int for empty columns."""
    return [
        [
            segment if isinstance(segment, int) else (segment.column.name, segment.level)
            for segment in row.segments
        ]
        for row in page.rows
    ]


def test_it_lays_out_every_pair_staff_may_see(industry, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):
        page = matrix_page(viewer=industry.staff)
    assert [c.name for c in page.columns] == [
        "Charlie Insurance",
        "Delta Assurance",
        "Gamma Mutual",
    ]
    assert [r.organization.name for r in page.rows] == ["Alpha Brokers", "Echo Brokers"]
    assert _cells(page) == [
        [("Charlie Insurance", None), ("Delta Assurance", Level.PARTIAL),
         ("Gamma Mutual", Level.VERIFIED)],
        [2, ("Gamma Mutual", Level.ENCRYPTED)],
    ]  # fmt: skip
    assert (page.row_total, page.pair_total) == (2, 4)
    assert page.counts == {NOT_CHECKED: 1, "partial": 1, "verified": 1, "encrypted": 1}
    by_name = {c.name: page.column_counts[c.id] for c in page.columns}
    assert by_name == {
        "Charlie Insurance": {NOT_CHECKED: 1},
        "Delta Assurance": {"partial": 1},
        "Gamma Mutual": {"verified": 1, "encrypted": 1},
    }


def test_it_shows_a_member_only_their_organizations_pairs(industry) -> None:
    page = matrix_page(viewer=industry.bob)
    assert [r.organization.name for r in page.rows] == ["Alpha Brokers"]
    assert page.pair_total == 3
    charlie_view = matrix_page(viewer=industry.charlie)
    assert _cells(charlie_view) == [[("Charlie Insurance", None)]]


def test_it_filters_on_the_pair_level(industry) -> None:
    partial = matrix_page(viewer=industry.staff, filters=DashboardMatrixFilters(level="partial"))
    assert _cells(partial) == [[("Delta Assurance", Level.PARTIAL)]]
    unchecked = matrix_page(
        viewer=industry.staff, filters=DashboardMatrixFilters(level=NOT_CHECKED)
    )
    assert _cells(unchecked) == [[("Charlie Insurance", None)]]
    by_name = matrix_page(viewer=industry.staff, filters=DashboardMatrixFilters(search="echo"))
    assert _cells(by_name) == [[("Gamma Mutual", Level.ENCRYPTED)]]


def test_it_pages_rows_and_keeps_counts_over_every_page(industry) -> None:
    second = matrix_page(viewer=industry.staff, page=2, per_page=1)
    assert [r.organization.name for r in second.rows] == ["Echo Brokers"]
    assert (second.row_total, second.pair_total) == (2, 4)
    beyond = matrix_page(viewer=industry.staff, page=3, per_page=1)
    assert beyond.rows == ()


def test_it_exports_the_same_pairs_in_order(industry) -> None:
    rows = [
        (cell.row.name, cell.column.name, cell.level)
        for cell in matrix_export_rows(viewer=industry.staff)
    ]
    assert rows == [
        ("Alpha Brokers", "Charlie Insurance", None),
        ("Alpha Brokers", "Delta Assurance", Level.PARTIAL),
        ("Alpha Brokers", "Gamma Mutual", Level.VERIFIED),
        ("Echo Brokers", "Gamma Mutual", Level.ENCRYPTED),
    ]


def test_it_shows_anonymous_users_nothing(industry) -> None:
    assert matrix_page(viewer=AnonymousUser()).rows == ()
    assert list(matrix_export_rows(viewer=AnonymousUser())) == []


def _outbound(**by_name: str) -> None:
    from monitoring.models import OrganizationStatus
    from partners.models import Organization

    for name, outbound in by_name.items():
        org = Organization.objects.get(name=name.replace("_", " "))
        OrganizationStatus.objects.filter(pk=org.pk).update(outbound=outbound)


def test_it_takes_the_weaker_direction_once_sending_is_observed(industry) -> None:
    # Echo's gateway was seen sending in plain text: Echo -> Gamma is plaintext, so is the pair.
    _outbound(Echo_Brokers="plaintext", Gamma_Mutual="tls", Alpha_Brokers="tls")
    page = matrix_page(viewer=industry.staff)
    cells = {
        (segment.row.name, segment.column.name): segment
        for row in page.rows
        for segment in row.segments
        if not isinstance(segment, int)
    }
    echo_gamma = cells[("Echo Brokers", "Gamma Mutual")]
    assert (echo_gamma.verdict.a_to_b, echo_gamma.verdict.b_to_a) == (
        Level.PLAINTEXT,
        Level.ENCRYPTED,
    )
    assert (echo_gamma.level, echo_gamma.assumed) == (Level.PLAINTEXT, False)
    assert (cells[("Alpha Brokers", "Gamma Mutual")].assumed) is False
    assert cells[("Alpha Brokers", "Delta Assurance")].assumed is True  # Delta never seen
    assert page.counts == {NOT_CHECKED: 1, "partial": 1, "verified": 1, "plaintext": 1}
    plaintext = matrix_page(
        viewer=industry.staff, filters=DashboardMatrixFilters(level="plaintext")
    )
    assert _cells(plaintext) == [[("Gamma Mutual", Level.PLAINTEXT)]]
    [exported] = [
        cell
        for cell in matrix_export_rows(viewer=industry.staff)
        if cell.row.name == "Echo Brokers"
    ]
    assert exported.verdict == echo_gamma.verdict


def test_it_explains_both_directions_on_the_pair_panel(client, industry) -> None:
    _outbound(Echo_Brokers="plaintext", Gamma_Mutual="tls")
    client.force_login(industry.staff)
    response = client.get("/matrix/echo-brokers/gamma-mutual/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Echo Brokers → Gamma Mutual" in text
    assert "sends in plain text" in text
    assert "turn on TLS for outgoing mail" in text  # the sender's own fix blocks the pair
    assert [d["level"] for d in response.context["directions"]] == [
        Level.PLAINTEXT,
        Level.ENCRYPTED,
    ]
