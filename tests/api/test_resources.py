"""Tests that each API resource answers every persona exactly as the pages do."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from monitoring.models import StatusChange
from partners.models import MailDomain, Organization, Partnership

pytestmark = pytest.mark.django_db

PERSONAS = ("staff", "alice", "bob", "charlie")
SCHEMA = Path("monitoring/probe/schema/domain-result.schema.json")


def _user(world, name):
    return getattr(world.personas, name)


@pytest.mark.parametrize("name", PERSONAS)
def test_it_lists_the_organizations_whose_pages_open(client, api_as, world, name) -> None:
    user = _user(world, name)
    client.force_login(user)
    pages = {
        org.slug
        for org in Organization.objects.all()
        if client.get(f"/orgs/{org.slug}/").status_code == 200
    }
    answer = api_as(user).get("/organizations").json()
    assert {item["slug"] for item in answer["items"]} == pages
    assert answer["count"] == len(pages)
    for org in Organization.objects.all():
        expected = 200 if org.slug in pages else 404
        assert api_as(user).get(f"/organizations/{org.slug}").status_code == expected


@pytest.mark.parametrize("name", PERSONAS)
def test_it_shows_the_levels_the_organization_page_shows(client, api_as, world, name) -> None:
    user = _user(world, name)
    client.force_login(user)
    caller = api_as(user)
    for item in caller.get("/organizations").json()["items"]:
        page = client.get(f"/orgs/{item['slug']}/")
        level = page.context["level"]
        assert item["level"] == (str(level) if level is not None else None)
        detail = caller.get(f"/organizations/{item['slug']}").json()
        assert [d["domain"] for d in detail["domains"]] == [
            d["status"].domain.name for d in page.context["domains"]
        ]
        assert item["member"] == page.context["full"]


@pytest.mark.parametrize("name", PERSONAS)
def test_it_answers_domains_as_the_organization_page_shows_them(
    client, api_as, world, name
) -> None:
    user = _user(world, name)
    client.force_login(user)
    caller = api_as(user)
    schema = json.loads(SCHEMA.read_text())
    for domain in MailDomain.objects.select_related("organization"):
        page = client.get(f"/orgs/{domain.organization.slug}/")
        response = caller.get(f"/domains/{domain.name}")
        if page.status_code == 404:
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        found = response.json()
        (shown,) = [d for d in page.context["domains"] if d["status"].domain_id == domain.pk]
        assert found["level"] == shown["status"].level
        assert found["since"] is not None
        hosts = sorted({o.host for o in shown["observations"]})
        assert sorted(mx["host"] for mx in found["mx"]) == hosts
        probe_shape = {k: v for k, v in found.items() if k not in {"since", "organization"}}
        jsonschema.validate(probe_shape, schema)


@pytest.mark.parametrize("name", PERSONAS)
def test_it_lists_the_pairs_whose_panels_open(client, api_as, world, name) -> None:
    user = _user(world, name)
    client.force_login(user)
    pages = {}
    for pair in Partnership.objects.select_related("org_a", "org_b"):
        panel = client.get(f"/matrix/{pair.org_a.slug}/{pair.org_b.slug}/")
        if panel.status_code == 200:
            verdict = panel.context["verdict"]
            pages[(pair.org_a.name, pair.org_b.name)] = tuple(
                str(level) if level else None
                for level in (verdict.level, verdict.a_to_b, verdict.b_to_a)
            ) + (verdict.assumed,)
    items = api_as(user).get("/pairs").json()["items"]
    assert {
        (i["a"], i["b"]): (i["level"], i["a_to_b"], i["b_to_a"], i["assumed"]) for i in items
    } == pages


@pytest.mark.parametrize("name", PERSONAS)
def test_it_lists_the_changes_the_history_shows(client, api_as, world, name) -> None:
    user = _user(world, name)
    client.force_login(user)
    shown = set()
    for org in Organization.objects.all():
        page = client.get(f"/orgs/{org.slug}/")
        if page.status_code == 200:
            shown |= {change.pk for change in page.context["history"]}
    answer = api_as(user).get("/changes?since=2020-01-01T00:00:00Z").json()
    assert {item["id"] for item in answer["items"]} == shown
    assert answer["count"] == len(shown) == StatusChange.objects.filter(pk__in=shown).count()


def test_it_answers_401_to_anonymous_callers_for_every_resource(api_as, world) -> None:
    caller = api_as(None)
    for path in (
        "/organizations",
        "/organizations/alpha-brokers",
        "/domains/alpha.example",
        "/pairs",
        "/changes",
        "/organizations/alpha-brokers/policy/postfix",
    ):
        assert caller.get(path).status_code == 401, path


def test_it_pages_with_a_stable_order(api_as, world) -> None:
    caller = api_as(world.personas.staff)
    everything = [i["slug"] for i in caller.get("/organizations").json()["items"]]
    paged = []
    for page in (1, 2, 3):
        answer = caller.get(f"/organizations?page={page}&per_page=1").json()
        assert answer["pages"] == 3
        paged += [i["slug"] for i in answer["items"]]
    assert paged == everything == ["alpha-brokers", "charlie-insurance", "delta-insurance"]


def test_it_leaves_out_changes_before_since(api_as, world) -> None:
    caller = api_as(world.personas.staff)
    assert caller.get("/changes?since=2030-01-01T00:00:00Z").json()["count"] == 0


def test_it_publishes_a_valid_openapi_document(api_as, world) -> None:
    response = api_as(None).get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert "/api/v1/pairs" in document["paths"]
    assert "/api/v1/organizations/{slug}/policy/{flavour}" in document["paths"]


def test_it_gives_the_explanation_and_outbound_the_pages_show(api_as, world) -> None:
    from datetime import date

    from monitoring.explanations.services import explanation_record
    from monitoring.models import OrganizationStatus

    charlie = world.charlie
    explanation_record(
        organization=charlie,
        author=world.personas.charlie,
        text="Moving to hosted mail by 2027-03",
        target_date=date(2027, 3, 31),
    )
    OrganizationStatus.objects.filter(pk=charlie.pk).update(outbound="plaintext")
    # bob is a partner of charlie's organization: he sees the statement beside its level.
    found = api_as(world.personas.bob).get(f"/organizations/{charlie.slug}").json()
    assert found["explanation"]["text"] == "Moving to hosted mail by 2027-03"
    assert found["explanation"]["target_date"] == "2027-03-31"
    assert found["exception"] is None
    assert found["outbound"] == "plaintext"
    listed = api_as(world.personas.bob).get("/organizations").json()["items"]
    assert {item["slug"]: item["outbound"] for item in listed}[charlie.slug] == "plaintext"
