"""Tests for the partner matrix and its pair panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import Kind
from partners.services import organization_create, partnership_create

pytestmark = pytest.mark.django_db


def test_it_redirects_anonymous_users_to_login(client) -> None:
    for url in ("/matrix/", "/matrix/alpha-brokers/charlie-insurance/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_shows_staff_every_insurer_brokerage_pair(client, world) -> None:
    partnership_create(world.delta, world.alpha)
    client.force_login(world.personas.staff)
    response = client.get("/matrix/")
    assert response.status_code == 200
    page = response.context["page"]
    assert [c.name for c in page.columns] == ["Charlie Insurance", "Delta Insurance"]
    [row] = page.rows
    assert row.organization.name == "Alpha Brokers"
    assert [str(s.level) for s in row.segments] == ["partial", "plaintext"]
    assert page.counts == {"partial": 1, "plaintext": 1}
    html = response.content.decode()
    assert 'href="/matrix/alpha-brokers/charlie-insurance/"' in html
    assert 'hx-get="/matrix/alpha-brokers/charlie-insurance/"' in html


def test_it_limits_members_to_their_partners(client, world) -> None:
    other = organization_create(name="Zulu Brokers", kind=Kind.BROKERAGE, domains=("zulu.example",))
    partnership_create(other, world.delta)
    client.force_login(world.personas.bob)
    page = client.get("/matrix/").context["page"]
    assert [c.name for c in page.columns] == ["Charlie Insurance"]
    assert [r.organization.name for r in page.rows] == ["Alpha Brokers"]


def test_it_filters_by_level_and_name(client, world) -> None:
    partnership_create(world.delta, world.alpha)
    client.force_login(world.personas.staff)
    page = client.get("/matrix/", {"level": "plaintext"}).context["page"]
    assert [c.name for c in page.columns] == ["Delta Insurance"]
    page = client.get("/matrix/", {"q": "charl"}).context["page"]
    assert [c.name for c in page.columns] == ["Charlie Insurance"]
    page = client.get("/matrix/", {"province": "NU"}).context["page"]
    assert page.rows == ()


def test_it_leaves_empty_columns_as_one_span(client, world) -> None:
    echo = organization_create(name="Echo Brokers", kind=Kind.BROKERAGE, domains=("echo.example",))
    partnership_create(echo, world.delta)
    client.force_login(world.personas.staff)
    rows = client.get("/matrix/").context["page"].rows
    assert [type(s).__name__ for s in rows[0].segments] == ["MatrixCell", "int"]  # Alpha
    assert [type(s).__name__ for s in rows[1].segments] == ["int", "MatrixCell"]  # Echo


def test_it_paginates_rows(client, world) -> None:
    for n in range(55):
        broker = organization_create(name=f"Broker {n:02}", kind=Kind.BROKERAGE)
        partnership_create(broker, world.charlie)
    client.force_login(world.personas.staff)
    first = client.get("/matrix/")
    assert len(first.context["page"].rows) == 50
    assert first.context["page"].row_total == 56
    second = client.get("/matrix/", {"page": 2})
    assert len(second.context["page"].rows) == 6
    assert b"Page 2 of 2" in second.content


def test_it_renders_only_the_matrix_body_for_htmx(client, world) -> None:
    client.force_login(world.personas.staff)
    response = client.get(
        "/matrix/", {"level": "partial"}, headers={"HX-Request": "true", "HX-Target": "matrix-body"}
    )
    assert b"<html" not in response.content
    assert b"Alpha Brokers" in response.content
    assert "HX-Request" in response["Vary"]


def test_it_reads_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
) -> None:
    for n in range(30):
        broker = organization_create(name=f"Broker {n:02}", kind=Kind.BROKERAGE)
        partnership_create(broker, world.charlie if n % 2 else world.delta)
    client.force_login(world.personas.staff)
    with django_assert_max_num_queries(8):
        assert client.get("/matrix/").status_code == 200
    client.force_login(world.personas.alice)
    with django_assert_max_num_queries(8):
        assert client.get("/matrix/").status_code == 200


class TestPairPanel:
    url = "/matrix/alpha-brokers/charlie-insurance/"

    def test_it_shows_both_sides_and_the_policy(self, client, world) -> None:
        client.force_login(world.personas.bob)
        response = client.get(self.url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "b: TLS if available" in page
        assert "mx1.charlie.example" in page
        assert "mx.alpha.example" in page
        # What blocks the next level: charlie's host without STARTTLS.
        assert "mx1.charlie.example does not offer STARTTLS" in page

    def test_it_reads_both_sides_levels_and_explanations_once(self, client, world) -> None:
        client.force_login(world.personas.bob)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(self.url).status_code == 200

        def reads(table: str) -> int:
            return sum(f'FROM "{table}"' in query["sql"] for query in captured)

        assert reads("monitoring_organizationstatus") == 1
        assert reads("explanations_explanation") == 1

    def test_it_renders_the_panel_alone_for_htmx(self, client, world) -> None:
        client.force_login(world.personas.charlie)
        response = client.get(self.url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert b"<html" not in response.content
        assert b'class="pair"' in response.content

    def test_it_hides_pairs_of_other_organizations(self, client, world) -> None:
        partnership_create(world.delta, world.charlie)
        client.force_login(world.personas.alice)
        # Charlie is alice's partner, but the Charlie-Delta pair is none of her business.
        assert client.get("/matrix/charlie-insurance/delta-insurance/").status_code == 404
        assert client.get("/matrix/alpha-brokers/delta-insurance/").status_code == 404

    def test_it_refuses_organizations_that_are_not_partners(self, client, world) -> None:
        client.force_login(world.personas.staff)
        assert client.get("/matrix/alpha-brokers/delta-insurance/").status_code == 404
