"""Tests for comply or explain: who may explain, where it shows, history, exports, French."""

from __future__ import annotations

import pytest

from monitoring.explanations.models import Explanation

pytestmark = pytest.mark.django_db

# Charlie Insurance is partial in the dashboard's world; Alpha Brokers is verified.
EXPLAIN = "/orgs/charlie-insurance/explain/explanation/"
EXCEPTION = "/orgs/charlie-insurance/explain/exception/"
TEXT = "Moving to hosted mail by 2027-03; until then TLS is opportunistic."


def _explain(client, user, text=TEXT, target="2027-03-31"):
    client.force_login(user)
    return client.post(EXPLAIN, {"text": text, "target_date": target})


def test_it_lets_an_organization_admin_explain_and_keeps_history(client, world) -> None:
    charlie = world.personas.charlie
    assert _explain(client, charlie, "first").status_code == 302
    assert _explain(client, charlie).status_code == 302
    rows = list(Explanation.objects.filter(organization=world.charlie).order_by("pk"))
    assert [r.text for r in rows] == ["first", TEXT]
    assert rows[-1].author == charlie
    page = client.get("/orgs/charlie-insurance/").content.decode()
    assert TEXT in page
    assert "target date 2027-03-31" in page
    assert "first" in page  # the history, for members


def test_it_refuses_other_people(client, world) -> None:
    assert _explain(client, world.personas.alice).status_code == 404  # a partner, not a member
    client.force_login(world.personas.charlie)
    assert client.post(EXCEPTION, {"text": "accepted"}).status_code == 403
    assert not Explanation.objects.exists()


def test_it_refuses_to_explain_a_verified_level(client, world) -> None:
    client.force_login(world.personas.alice)
    client.post("/orgs/alpha-brokers/explain/explanation/", {"text": "nothing to say"})
    assert not Explanation.objects.exists()


def test_it_shows_the_explanation_to_partners_and_staff(client, world) -> None:
    _explain(client, world.personas.charlie)
    client.force_login(world.personas.staff)
    assert client.post(EXCEPTION, {"text": "Regulator accepted the plan"}).status_code == 302
    for user in (world.personas.bob, world.personas.staff):
        client.force_login(user)
        page = client.get("/orgs/charlie-insurance/").content.decode()
        assert TEXT in page
        assert "Regulator accepted the plan" in page
        panel = client.get("/matrix/alpha-brokers/charlie-insurance/").content.decode()
        assert TEXT in panel


def test_it_puts_explanations_in_the_exports(client, world) -> None:
    _explain(client, world.personas.charlie)
    client.force_login(world.personas.staff)
    orgs = b"".join(client.get("/orgs.csv").streaming_content).decode()
    assert orgs.splitlines()[0].endswith(",explanation")
    assert f"{TEXT} (by 2027-03-31)" in orgs
    matrix = b"".join(client.get("/matrix.csv").streaming_content).decode()
    assert "insurer_explanation" in matrix.splitlines()[0]
    assert TEXT in matrix


def test_it_lists_explanations_past_their_date_for_staff(client, world) -> None:
    _explain(client, world.personas.charlie, target="2020-01-31")
    client.force_login(world.personas.staff)
    response = client.get("/")
    assert [c.explanation.text for c in response.context["overdue"]] == [TEXT]
    assert "1 explanation is past its target date." in response.content.decode()


def test_it_speaks_french(client, world) -> None:
    _explain(client, world.personas.charlie)
    client.force_login(world.personas.bob)
    page = client.get("/orgs/charlie-insurance/", HTTP_ACCEPT_LANGUAGE="fr-CA").content.decode()
    assert "Explication" in page
    assert "date cible 2027-03-31" in page
