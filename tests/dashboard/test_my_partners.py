"""Tests for "my partners": the member's own status on top, partners worst first."""

from __future__ import annotations

import pytest

from partners.models import Kind
from partners.services import organization_create, partnership_create

pytestmark = pytest.mark.django_db


def test_it_redirects_anonymous_users_to_login(client) -> None:
    response = client.get("/partners/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_own_status_and_partners_worst_first(client, world) -> None:
    unknown = organization_create(name="Echo Mutual", kind=Kind.INSURER, domains=("echo.example",))
    partnership_create(world.alpha, unknown)
    client.force_login(world.personas.bob)
    response = client.get("/partners/")
    assert response.status_code == 200
    [(own, partners)] = response.context["sections"]
    assert own.name == "Alpha Brokers"
    # partial (a known problem) before not checked.
    assert [p.name for p in partners] == ["Charlie Insurance", "Echo Mutual"]
    page = response.content.decode()
    assert "Delta Insurance" not in page
    assert 'href="/orgs/charlie-insurance/"' in page
    assert "not checked yet" in page


def test_it_shows_each_member_only_their_organization(client, world) -> None:
    client.force_login(world.personas.charlie)
    [(own, partners)] = client.get("/partners/").context["sections"]
    assert own.name == "Charlie Insurance"
    assert [p.name for p in partners] == ["Alpha Brokers"]


def test_it_tells_staff_without_membership_where_to_go(client, world) -> None:
    client.force_login(world.personas.staff)
    response = client.get("/partners/")
    assert b"not a member of any organization" in response.content


def test_it_reads_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
) -> None:
    client.force_login(world.personas.alice)
    with django_assert_max_num_queries(8):
        client.get("/partners/")


def test_it_pages_many_partners_worst_first(client, world, monkeypatch) -> None:
    from monitoring.dashboard.views import partners as views

    monkeypatch.setattr(views, "PARTNERS_PER_PAGE", 1)
    unknown = organization_create(name="Echo Mutual", kind=Kind.INSURER, domains=("echo.example",))
    partnership_create(world.alpha, unknown)
    client.force_login(world.personas.bob)
    [(_own, first)] = client.get("/partners/").context["sections"]
    assert [p.name for p in first] == ["Charlie Insurance"]
    assert (first.total, first.number, first.pages) == (2, 1, 2)
    assert first.counts == {"partial": 1, "not-checked": 1}
    response = client.get("/partners/?org=alpha-brokers&page=2")
    [(_own, second)] = response.context["sections"]
    assert [p.name for p in second] == ["Echo Mutual"]
    assert "Page 2 of 2" in response.content.decode()


def test_it_says_how_each_partner_sends_or_that_it_was_never_observed(client, world) -> None:
    from monitoring.models import OrganizationStatus

    OrganizationStatus.objects.filter(pk=world.charlie.pk).update(outbound="plaintext")
    client.force_login(world.personas.bob)
    page = client.get("/partners/").content.decode()
    assert "sends in plain text" in page
    client.force_login(world.personas.charlie)
    assert "sending never observed" in client.get("/partners/").content.decode()
