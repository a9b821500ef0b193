"""A small industry for the dashboard tests: alice's brokerage partners with charlie's insurer.

Delta Insurance exists but partners with nobody alice knows: her requests for it must get 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from monitoring import cycles
from monitoring import store as pipeline_store
from monitoring.models import CycleDomain, ProbeCycle
from monitoring.probe import Level
from partners.models import Kind, MailDomain
from partners.services import organization_create, partnership_create
from tests.conftest import Personas
from tests.monitoring.conftest import sent_batches  # noqa: F401 - a pytest fixture
from tests.monitoring.factories import T0, certificate, result


def store(at: datetime, results: list[Any]) -> ProbeCycle:
    """Store probe results as one finished cycle, like a worker would."""
    cycle = ProbeCycle.objects.create(trigger="manual", started=at)
    domains = MailDomain.objects.filter(name__in=[r.domain for r in results])
    CycleDomain.objects.bulk_create([CycleDomain(cycle=cycle, domain=d) for d in domains])
    pipeline_store.domain_results_store(cycle=cycle, results=results)
    cycles.cycle_finish_if_done(cycle_id=cycle.pk, now=at)
    return cycle


@dataclass
class World:
    personas: Personas
    alpha: Any
    charlie: Any
    delta: Any


@pytest.fixture
def world(personas: Personas) -> World:
    alpha, charlie = personas.alices_org, personas.charlies_org
    delta = organization_create(
        name="Delta Insurance", kind=Kind.INSURER, province="AB", domains=("delta.example",)
    )
    partnership_create(alpha, charlie)
    store(
        T0,
        [
            result(
                "alpha.example", Level.VERIFIED, cert=certificate("mx.alpha.example", days_left=9)
            ),
            result(
                "charlie.example",
                Level.PARTIAL,
                hosts=(("mx1.charlie.example", "192.0.2.7"),),
            ),
            result("delta.example", Level.PLAINTEXT),
        ],
    )
    return World(personas=personas, alpha=alpha, charlie=charlie, delta=delta)
