"""Tests for secmail.demo.demo.load_demo, the demo industry behind `make run`."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from partners.access import visible_organizations
from partners.models import MailDomain, Organization
from secmail.demo.demo import BROKER_EMAIL, STAFF_EMAIL, demo_logins, load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_it_creates_a_fictional_industry_under_dot_test() -> None:
    result = load_demo()
    assert result.organizations_created == 12
    assert set(Organization.objects.values_list("kind", flat=True)) == {"insurer", "brokerage"}
    assert len(set(Organization.objects.values_list("province", flat=True))) >= 8
    assert all(name.endswith(".test") for name in MailDomain.objects.values_list("name", flat=True))
    assert all(org.notes.startswith("DEMO DATA") for org in Organization.objects.all())


def test_it_creates_users_whose_printed_passwords_work() -> None:
    result = load_demo()
    assert set(result.logins) == set(demo_logins())
    staff = authenticate(username=STAFF_EMAIL, password=result.logins[STAFF_EMAIL])
    broker = authenticate(username=BROKER_EMAIL, password=result.logins[BROKER_EMAIL])
    assert staff is not None and staff.is_staff
    assert broker is not None and not broker.is_staff
    visible = visible_organizations(broker)
    assert 1 < visible.count() < Organization.objects.count()


def test_it_is_safe_to_run_twice() -> None:
    first = load_demo()
    second = load_demo()
    assert second.organizations_created == 0
    assert second.logins == {}
    assert demo_logins() == first.logins


def test_it_uses_only_domains_the_demo_lab_serves():
    from secmail.demo.demo import ORGANIZATIONS
    from tests.lab.world import DEMO_DOMAINS

    served = {f"{name}.demo.lab.test" for name in DEMO_DOMAINS}
    demo_domains = {domain for *_, domains in ORGANIZATIONS for domain in domains}
    assert demo_domains == served


def test_it_shows_observed_outbound_for_some_and_assumed_pairs_for_others(settings) -> None:
    from io import StringIO

    from django.core.management import call_command

    from monitoring.evidence.selectors import tlsrpt_by_domain
    from monitoring.models import OrganizationStatus
    from monitoring.selectors import pair_rows

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # again: nothing recorded twice
    outbound = dict(OrganizationStatus.objects.values_list("organization__name", "outbound"))
    assert outbound["Maple Mutual Insurance"] == "tls"
    assert outbound["Courtage Saint-Laurent"] == "plaintext"
    assert outbound["Red River Brokerage"] == "legacy-tls"
    assert outbound["Chinook Insurance Brokers"] == "unknown"  # a stranger's message
    pairs = {(row.a, row.b): row.verdict for row in pair_rows()}
    assert any(verdict.assumed for verdict in pairs.values())
    assert not all(verdict.assumed for verdict in pairs.values())
    [reported] = tlsrpt_by_domain(days=30)
    assert (reported.domain, reported.successful, reported.failed) == (
        "maplemutual.demo.lab.test",
        2310,
        12,
    )
