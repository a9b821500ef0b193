"""Selectors against hand-computed expectations: pair levels, the matrix, rollout at a date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from monitoring import selectors, store
from monitoring.levels import NOT_CHECKED
from monitoring.models import CycleDomain, ProbeCycle
from monitoring.probe import Level
from partners.models import Kind, Organization
from tests.monitoring.factories import T0, organization, result

pytestmark = pytest.mark.django_db


def _store(at: datetime, **levels_by_domain: str) -> None:
    """Store one cycle in which each domain (underscores for dots) got the given level."""
    names = {name.replace("_", "."): level for name, level in levels_by_domain.items()}
    cycle = ProbeCycle.objects.create(trigger="manual", started=at)
    from partners.models import MailDomain

    domains = MailDomain.objects.filter(name__in=names)
    CycleDomain.objects.bulk_create([CycleDomain(cycle=cycle, domain=d) for d in domains])
    store.domain_results_store(
        cycle=cycle, results=[result(name, level, at=at) for name, level in names.items()]
    )


def _day(n: int) -> datetime:
    return T0.replace(day=n)


class TestPairLevel:
    def test_it_takes_the_lower_inbound_level(self) -> None:
        a = organization("A", "a1.example", "a2.example")
        b = organization("B", "b1.example")
        c = organization("C", "c1.example")
        _store(T0, a1_example="verified", a2_example="encrypted", b1_example="partial")
        assert selectors.organization_level(a) == Level.ENCRYPTED
        assert selectors.pair_level(a, b) == Level.PARTIAL
        assert selectors.pair_level(b.pk, a.pk) == Level.PARTIAL
        assert selectors.pair_level(a, c) is None  # c never probed: not checked

    def test_it_follows_unreachable_domains(self) -> None:
        a = organization("A", "a1.example", "a2.example")
        b = organization("B", "b1.example", "b2.example")
        _store(
            T0,
            a1_example="verified",
            a2_example="unreachable",
            b1_example="plaintext",
            b2_example="unreachable",
        )
        assert selectors.organization_level(a) == Level.UNREACHABLE
        assert selectors.organization_level(b) == Level.PLAINTEXT
        assert selectors.pair_level(a, b) == Level.PLAINTEXT

    def test_it_answers_in_one_query(self, django_assert_num_queries) -> None:
        a = organization("A", "a1.example")
        b = organization("B", "b1.example")
        with django_assert_num_queries(1):
            selectors.pair_level(a, b)


class TestRollout:
    @pytest.fixture
    def world(self) -> dict[str, Organization]:
        orgs = {
            "A": organization("A", "a1.example", "a2.example", kind=Kind.BROKERAGE, province="ON"),
            "B": organization("B", "b1.example", kind=Kind.INSURER, province="QC"),
            "C": organization("C", "c1.example", kind=Kind.BROKERAGE, province="QC"),
            "D": organization("D", "d1.example", kind=Kind.BROKERAGE, province="ON"),
        }
        Organization.objects.update(created=T0 - timedelta(days=30))
        _store(
            _day(1),
            a1_example="verified",
            a2_example="encrypted",
            b1_example="plaintext",
            c1_example="unreachable",
        )
        _store(_day(3), a2_example="verified", b1_example="encrypted")
        _store(_day(5), a1_example="partial", c1_example="verified")
        return orgs

    def test_it_counts_nothing_before_the_first_probe(self, world) -> None:
        figures = selectors.rollout(at=date(2026, 10, 31))
        assert figures.organizations == 4
        assert figures.by_level == {NOT_CHECKED: 4}

    def test_it_reads_each_date_from_the_changes(self, world) -> None:
        ids = {name: org.pk for name, org in world.items()}
        expected = {
            date(2026, 11, 1): {"A": "encrypted", "B": "plaintext", "C": "unreachable"},
            date(2026, 11, 2): {"A": "encrypted", "B": "plaintext", "C": "unreachable"},
            date(2026, 11, 3): {"A": "verified", "B": "encrypted", "C": "unreachable"},
            date(2026, 11, 5): {"A": "partial", "B": "encrypted", "C": "verified"},
            date(2026, 11, 30): {"A": "partial", "B": "encrypted", "C": "verified"},
        }
        for day, by_name in expected.items():
            figures = selectors.rollout(at=day)
            got = {name: figures.levels[pk] for name, pk in ids.items()}
            assert got == {**by_name, "D": None}, day

    def test_it_breaks_figures_down_by_kind_and_province(self, world) -> None:
        figures = selectors.rollout(at=date(2026, 11, 5))
        assert figures.by_level == {
            "partial": 1,
            "encrypted": 1,
            "verified": 1,
            NOT_CHECKED: 1,
        }
        assert figures.by_kind == {
            "brokerage": {"partial": 1, "verified": 1, NOT_CHECKED: 1},
            "insurer": {"encrypted": 1},
        }
        assert figures.by_province == {
            "ON": {"partial": 1, NOT_CHECKED: 1},
            "QC": {"encrypted": 1, "verified": 1},
        }

    def test_it_leaves_out_organizations_created_later(self, world) -> None:
        Organization.objects.filter(pk=world["D"].pk).update(created=_day(10))
        assert selectors.rollout(at=date(2026, 11, 5)).organizations == 3
        assert selectors.rollout(at=date(2026, 11, 10)).organizations == 4

    def test_it_uses_a_fixed_number_of_queries(self, world, django_assert_num_queries) -> None:
        with django_assert_num_queries(3):
            selectors.rollout(at=date(2026, 11, 5))


class TestDomains:
    def test_it_lists_an_organizations_domains_with_what_was_observed(
        self, django_assert_max_num_queries
    ) -> None:
        org = organization("A", "a1.example", "a2.example", "a3.example")
        shared = (("mx.provider.example", "192.0.2.9"),)
        cycle = ProbeCycle.objects.create(trigger="single", organization=org)
        CycleDomain.objects.bulk_create(
            [CycleDomain(cycle=cycle, domain=d) for d in org.domains.all()]
        )
        store.domain_results_store(
            cycle=cycle,
            results=[
                result("a1.example", hosts=shared),
                result(
                    "a2.example", "plaintext", hosts=shared + (("mx2.a2.example", "192.0.2.2"),)
                ),
            ],
        )
        with django_assert_max_num_queries(2):
            statuses = selectors.organization_domains(organization=org)
            observed = selectors.domain_observations(statuses=statuses)
        assert [(s.domain.name, s.level) for s in statuses] == [
            ("a1.example", "verified"),
            ("a2.example", "plaintext"),
            ("a3.example", ""),
        ]
        a1, a2, a3 = statuses
        assert [o.host for o in observed[a1.domain_id]] == ["mx.provider.example"]
        assert observed[a1.domain_id][0].certificate.subject == "CN=mx.provider.example"
        assert [o.host for o in observed[a2.domain_id]] == ["mx.provider.example", "mx2.a2.example"]
        assert a3.domain_id not in observed
        assert selectors.cycle_latest(organization=org) == cycle
        assert selectors.cycle_latest() == cycle
