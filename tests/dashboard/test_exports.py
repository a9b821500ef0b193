"""Tests for the CSV exports of the matrix and the organization list (staff only)."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_redirects_anonymous_users_to_login(client) -> None:
    for url in ("/matrix.csv", "/orgs.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_members(client, world) -> None:
    client.force_login(world.personas.alice)
    assert client.get("/matrix.csv").status_code == 403
    assert client.get("/orgs.csv").status_code == 403


def test_it_exports_the_filtered_matrix(client, world) -> None:
    client.force_login(world.personas.staff)
    response = client.get("/matrix.csv", {"level": "partial"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert _rows(response) == [
        [
            "brokerage", "insurer", "pair_level", "policy", "brokerage_to_insurer",
            "insurer_to_brokerage", "assumed", "brokerage_level", "insurer_level",
            "brokerage_outbound", "insurer_outbound", "brokerage_explanation",
            "insurer_explanation",
        ],
        [
            "Alpha Brokers", "Charlie Insurance", "partial", "b", "partial", "verified", "yes",
            "verified", "partial", "unknown", "unknown", "", "",
        ],
    ]  # fmt: skip
    assert _rows(client.get("/matrix.csv", {"level": "verified"}))[1:] == []


def test_it_exports_organizations_with_levels(client, world) -> None:
    client.force_login(world.personas.staff)
    rows = _rows(client.get("/orgs.csv"))
    assert rows[0] == [
        "organization",
        "domain",
        "level",
        "warnings",
        "checked_at",
        "since",
        "explanation",
    ]
    assert [r[:3] for r in rows[1:]] == [
        ["Alpha Brokers", "alpha.example", "verified"],
        ["Charlie Insurance", "charlie.example", "partial"],
        ["Delta Insurance", "delta.example", "plaintext"],
    ]
