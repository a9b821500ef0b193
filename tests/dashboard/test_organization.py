"""Tests for the organization page and its "probe now" button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import OrganizationStatus, ProbeCycle

pytestmark = pytest.mark.django_db

URL = "/orgs/alpha-brokers/"


def test_it_redirects_anonymous_users_to_login(client, world) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_members_their_organization_in_full(client, world) -> None:
    client.force_login(world.personas.bob)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "alpha.example" in page
    assert "mx.alpha.example" in page
    assert "TLSv1.3" in page
    assert "MTA-STS" in page and "TLS-RPT" in page
    assert "History" in page
    # Plain-language advice: the certificate of the fixture expires 9 days after T0.
    assert "publish an MTA-STS policy in enforce mode" in page
    # bob is a viewer: no probe button.
    assert "Probe now" not in page


def test_it_shows_partners_their_level_warnings_and_mx_only(client, world) -> None:
    client.force_login(world.personas.charlie)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "mx.alpha.example" in page
    assert "History" not in page
    assert "How to fix" not in page
    assert response.context["full"] is False


def test_it_hides_organizations_that_are_not_partners(client, world) -> None:
    client.force_login(world.personas.alice)
    assert client.get("/orgs/delta-insurance/").status_code == 404
    assert client.get("/orgs/no-such-org/").status_code == 404


def test_it_lets_admins_probe_now(client, world, sent_batches) -> None:
    client.force_login(world.personas.alice)
    assert "Probe now" in client.get(URL).content.decode()
    response = client.post(f"{URL}probe/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    cycle = ProbeCycle.objects.get(organization=world.alpha)
    assert sent_batches == [(cycle.pk, [world.alpha.domains.get().pk])]
    assert f'hx-get="/orgs/alpha-brokers/probe/{cycle.pk}/"' in response.content.decode()
    assert 'hx-trigger="load delay:1s"' in response.content.decode()


def test_it_redirects_a_probe_without_htmx_back_to_the_page(client, world, sent_batches) -> None:
    client.force_login(world.personas.alice)
    response = client.post(f"{URL}probe/")
    assert response.status_code == 302
    assert response["Location"] == URL


def test_it_rate_limits_probes(client, world, sent_batches) -> None:
    OrganizationStatus.objects.filter(pk=world.alpha.pk).update(
        last_manual_probe_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(world.personas.alice)
    response = client.post(f"{URL}probe/", headers={"HX-Request": "true"})
    assert "try again in 4 minutes" in response.content.decode()
    assert sent_batches == []
    assert client.post(f"{URL}probe/").status_code == 429


def test_it_refuses_probes_to_viewers_and_other_organizations(client, world, sent_batches) -> None:
    client.force_login(world.personas.bob)
    assert client.post(f"{URL}probe/").status_code == 403
    client.force_login(world.personas.charlie)
    assert client.post(f"{URL}probe/").status_code == 404
    assert sent_batches == []


def test_it_needs_csrf_to_probe(world, sent_batches) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.personas.alice)
    assert client.post(f"{URL}probe/").status_code == 403
    assert sent_batches == []


def test_it_polls_progress_until_the_cycle_finishes(client, world, sent_batches) -> None:
    client.force_login(world.personas.alice)
    client.post(f"{URL}probe/", headers={"HX-Request": "true"})
    cycle = ProbeCycle.objects.get(organization=world.alpha)
    progress = f"{URL}probe/{cycle.pk}/"
    running = client.get(progress, headers={"HX-Request": "true"})
    assert b"0 of 1 domains done" in running.content
    assert b"hx-trigger" in running.content
    assert "HX-Trigger" not in running
    ProbeCycle.objects.filter(pk=cycle.pk).update(done=1, finished=timezone.now())
    done = client.get(progress, headers={"HX-Request": "true"})
    assert b"hx-trigger" not in done.content
    assert done["HX-Trigger"] == "domainsChanged"


def test_it_hides_progress_of_other_organizations(client, world, sent_batches) -> None:
    cycle = ProbeCycle.objects.create(trigger="single", organization=world.charlie)
    client.force_login(world.personas.alice)
    assert client.get(f"{URL}probe/{cycle.pk}/").status_code == 404
    assert client.get(f"/orgs/charlie-insurance/probe/{cycle.pk}/").status_code == 404


def test_it_renders_the_status_alone_for_htmx(client, world) -> None:
    client.force_login(world.personas.alice)
    response = client.get(URL, headers={"HX-Request": "true"})
    assert b"<html" not in response.content
    assert b'id="org-status"' in response.content


def test_it_reads_in_a_fixed_number_of_queries(client, world) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.services import domain_create

    client.force_login(world.personas.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for n in range(10):
        domain_create(organization=world.alpha, name=f"d{n}.alpha.example")
    assert queries() == few <= 15
