"""Tests for the home page: staff get the rollout overview, members are sent to their partners."""

from __future__ import annotations

import pytest

from monitoring.dashboard import selectors as reads
from monitoring.models import ProbeCycle
from monitoring.probe import Level
from tests.dashboard.conftest import store
from tests.monitoring.factories import T0, result

pytestmark = pytest.mark.django_db


def test_it_redirects_anonymous_users_to_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_sends_members_to_their_partners(client, world) -> None:
    client.force_login(world.personas.bob)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/partners/"


def test_it_shows_staff_the_rollout_overview(client, world) -> None:
    client.force_login(world.personas.staff)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rollout overview" in page
    # Insurers: Charlie (partial) and Delta (plaintext); brokerages: Alpha (verified).
    assert response.context["kinds"][0][2] == 2
    assert ("partial", 1) in response.context["kinds"][0][1]
    assert ("verified", 1) in response.context["kinds"][1][1]
    assert "Data freshness" in page


def test_it_lists_regressions_and_improvements(client, world) -> None:
    later = T0.replace(day=5)
    store(later, [result("alpha.example", Level.ENCRYPTED, at=later)])
    store(
        later,
        [
            result("charlie.example", Level.VERIFIED, at=later),
            result("delta.example", "plaintext", at=later),
        ],
    )
    client.force_login(world.personas.staff)
    moves = client.get("/").context["overview"].moves
    assert {(m.domain, m.better) for m in moves} == {
        ("charlie.example", True),
        ("alpha.example", False),
    }
    page = client.get("/").content.decode()
    assert "regressed" in page
    assert "improved" in page


def test_it_lists_certificates_expiring_soon(world) -> None:
    # alpha's certificate ends 9 days after T0; "now" is when the test runs, so pin it.
    overview = reads.overview(now=T0)
    assert [(c.hosts, c.days_left) for c in overview.expiring] == [(("mx.alpha.example",), 9)]


def test_it_draws_the_verified_share_of_scheduled_cycles(client, world) -> None:
    ProbeCycle.objects.create(
        trigger="schedule",
        window_start=T0,
        started=T0,
        finished=T0,
        counts={"verified": 3, "partial": 1, "no-mail": 5},
    )
    client.force_login(world.personas.staff)
    response = client.get("/")
    assert b"<svg" in response.content
    assert b"75% of probed mail domains at verified" in response.content


def test_it_reads_the_overview_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
) -> None:
    client.force_login(world.personas.staff)
    with django_assert_max_num_queries(11):
        assert client.get("/").status_code == 200


def test_it_shows_outbound_coverage_and_its_trend(client, world) -> None:
    from datetime import date

    from monitoring.evidence.models import OutboundCoverage
    from monitoring.models import OrganizationStatus

    OrganizationStatus.objects.filter(pk=world.alpha.pk).update(outbound="tls")
    OrganizationStatus.objects.filter(pk=world.delta.pk).update(outbound="plaintext")
    OutboundCoverage.objects.create(day=date(2026, 10, 1), tls=0, plaintext=0, unknown=3)
    OutboundCoverage.objects.create(day=date(2026, 11, 1), tls=1, plaintext=1, unknown=1)
    client.force_login(world.personas.staff)
    response = client.get("/")
    coverage = response.context["outbound"]
    assert (coverage.tls, coverage.plaintext, coverage.unknown) == (1, 1, 1)
    page = response.content.decode()
    assert "Sending observed for 67% of organizations." in page
    assert "Trend: 0% on 2026-10-01, 67% now." in page
