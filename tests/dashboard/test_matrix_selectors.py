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
        (row.name, column.name, level)
        for row, column, level in matrix_export_rows(viewer=industry.staff)
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
