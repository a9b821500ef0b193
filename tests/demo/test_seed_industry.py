"""Tests for `manage.py seed_industry` and the synthetic industry behind the benchmarks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F

from monitoring import levels, selectors
from monitoring.models import (
    Certificate,
    DomainStatus,
    HostObservation,
    OrganizationStatus,
    ProbeCycle,
    StatusChange,
)
from partners.models import Contact, Kind, MailDomain, Membership, Organization, Partnership
from secmail.demo.industry import SYNTHETIC_NOTE

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_industry", "--orgs", "50", *args, stdout=out)
    return out.getvalue()


def test_it_builds_an_industry_of_the_asked_size() -> None:
    output = seed()
    assert "SYNTHETIC DATA" in output
    assert Organization.objects.count() == 50
    assert Organization.objects.exclude(notes=SYNTHETIC_NOTE).count() == 0
    assert 1 <= Organization.objects.filter(kind=Kind.INSURER).count() <= 3
    assert 70 <= MailDomain.objects.count() <= 80  # 1.5 per organization
    assert Partnership.objects.count() == 250  # 5 per organization
    assert 90 <= Contact.objects.count() <= 100  # 2 per organization, a few capped
    assert all(
        name.endswith(".synthetic.test")
        for name in MailDomain.objects.values_list("name", flat=True)
    )


def test_it_stores_partnerships_in_canonical_order_mostly_with_insurers() -> None:
    # Enough insurers that 95% of 250 pairs fit between brokerages and insurers.
    seed("--insurers", "10")
    assert Organization.objects.filter(kind=Kind.INSURER).count() == 10
    assert not Partnership.objects.filter(org_a__gte=F("org_b")).exists()
    with_insurer = Partnership.objects.filter(
        org_a__kind=Kind.INSURER
    ) | Partnership.objects.filter(org_b__kind=Kind.INSURER)
    assert with_insurer.distinct().count() >= 0.9 * Partnership.objects.count()


def test_it_gives_every_domain_a_status_and_organizations_their_inbound_level() -> None:
    seed()
    assert DomainStatus.objects.count() == MailDomain.objects.count()
    found = set(DomainStatus.objects.values_list("level", flat=True))
    assert {"verified", "encrypted", "plaintext"} <= found
    assert OrganizationStatus.objects.count() == 50
    for organization in Organization.objects.all()[:20]:
        domain_levels = DomainStatus.objects.filter(domain__organization=organization).values_list(
            "level", flat=True
        )
        expected = levels.inbound_level(domain_levels)
        assert selectors.organization_level(organization) == expected


def test_it_keeps_history_consistent_with_the_current_statuses() -> None:
    seed()
    cycles = ProbeCycle.objects.filter(trigger="schedule", finished__isnull=False)
    assert cycles.count() == 90
    latest = cycles.order_by("-finished").first()
    checked = DomainStatus.objects.exclude(level="")
    assert sum(latest.counts.values()) == checked.count() == latest.total
    # Every checked domain's latest change is its current level.
    assert selectors.domain_levels_at(latest.finished) == dict(
        checked.values_list("domain_id", "level")
    )
    assert StatusChange.objects.filter(from_level="").count() == checked.count()


def test_it_stores_what_the_latest_cycle_saw() -> None:
    seed()
    status = DomainStatus.objects.exclude(mx=[]).first()
    observations = selectors.domain_observations(statuses=[status])
    assert observations[status.domain_id]
    assert HostObservation.objects.filter(certificate__isnull=False).exists()
    assert Certificate.objects.filter(issuer="CN=Synthetic Test CA").exists()


def test_it_creates_staff_and_members_without_passwords() -> None:
    output = seed()
    users = get_user_model().objects.filter(username__endswith="@synthetic.test")
    assert users.filter(is_staff=True).count() == 1
    assert not any(user.has_usable_password() for user in users)
    assert Membership.objects.filter(role="admin", organization__kind=Kind.INSURER).exists()
    assert Membership.objects.filter(role="viewer", organization__kind=Kind.BROKERAGE).exists()
    assert "staff@synthetic.test" in output


def test_it_refuses_a_database_that_is_not_empty() -> None:
    seed()
    with pytest.raises(CommandError, match="--reset"):
        seed()


def test_it_replaces_a_synthetic_industry_with_reset() -> None:
    seed("--seed", "1")
    first = set(Organization.objects.values_list("name", flat=True))
    seed("--seed", "2", "--reset")
    assert Organization.objects.count() == 50
    assert set(Organization.objects.values_list("name", flat=True)) != first
    assert ProbeCycle.objects.count() == 90


def test_it_never_resets_real_organizations(personas) -> None:
    with pytest.raises(CommandError, match="did not create"):
        seed("--reset")
    assert Organization.objects.filter(name="Alpha Brokers").exists()


def test_it_makes_the_same_industry_from_the_same_seed() -> None:
    seed("--seed", "7")
    first = sorted(Organization.objects.values_list("name", "status__level"))
    seed("--seed", "7", "--reset")
    assert sorted(Organization.objects.values_list("name", "status__level")) == first
