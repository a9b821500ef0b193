"""The probe_cycle and export_status commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from monitoring import store
from monitoring.models import CycleDomain, ProbeCycle
from tests.monitoring.factories import T0, organization, result

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def inline_worker(sent_batches, monkeypatch):  # noqa: ANN201
    """Batches run as soon as they are sent, with a fake probe: verified, or plaintext for b."""
    from monitoring import tasks

    monkeypatch.setattr(
        store,
        "probe_domains",
        lambda names, config: [
            result(name, "plaintext" if name.startswith("b.") else "verified") for name in names
        ],
    )
    monkeypatch.setattr(
        tasks.probe_batch,
        "delay",
        lambda cycle_id, ids: store.cycle_batch_run(cycle_id=cycle_id, domain_ids=ids),
    )


class TestProbeCycle:
    def test_it_enqueues_a_full_cycle(self, sent_batches) -> None:
        organization("A", "a.example", "b.example")
        organization("B", "c.example")
        out = _run("probe_cycle")
        cycle = ProbeCycle.objects.get()
        assert out == f"cycle {cycle.pk}: 3 domain(s) enqueued\n"
        assert cycle.trigger == "manual"
        assert sum(len(batch) for _, batch in sent_batches) == 3

    def test_it_enqueues_one_organization(self, sent_batches) -> None:
        organization("A", "a.example", "b.example")
        organization("B", "c.example")
        _run("probe_cycle", "--org", "b")
        cycle = ProbeCycle.objects.get()
        assert (cycle.trigger, cycle.organization.slug, cycle.total) == ("single", "b", 1)

    def test_it_refuses_an_unknown_organization(self, sent_batches) -> None:
        with pytest.raises(CommandError, match="no organization"):
            _run("probe_cycle", "--org", "nope")

    def test_it_waits_and_summarizes(self, inline_worker) -> None:
        organization("A", "a.example", "b.example")
        out = _run("probe_cycle", "--wait")
        assert "2/2" in out
        assert "100%" in out
        assert "finished: 2 domain(s)" in out
        assert "(plaintext 1, verified 1)" in out

    def test_it_gives_up_waiting_after_the_timeout(self, sent_batches) -> None:
        organization("A", "a.example")
        with pytest.raises(CommandError, match="not finished after 0 s"):
            _run("probe_cycle", "--wait", "--timeout", "0.1")
        assert CycleDomain.objects.filter(processed_at__isnull=True).count() == 1


class TestExportStatus:
    @pytest.fixture
    def stored(self) -> None:
        organization("Alpha", "a.example", "b.example")
        organization("Empty")
        cycle = ProbeCycle.objects.create(trigger="manual")
        from partners.models import MailDomain

        CycleDomain.objects.bulk_create(
            [CycleDomain(cycle=cycle, domain=d) for d in MailDomain.objects.all()]
        )
        store.domain_results_store(
            cycle=cycle,
            results=[
                result("a.example", warnings=("cert-expiring", "no-downgrade-protection")),
                result("b.example", "partial", at=T0 + timedelta(hours=1)),
            ],
        )

    def test_it_writes_csv(self, stored) -> None:
        rows = list(csv.reader(io.StringIO(_run("export_status"))))
        assert rows == [
            ["organization", "domain", "level", "warnings", "checked_at", "since"],
            [
                "Alpha",
                "a.example",
                "verified",
                "cert-expiring;no-downgrade-protection",
                "2026-11-01T12:00:00Z",
                "2026-11-01T12:00:00Z",
            ],
            [
                "Alpha",
                "b.example",
                "partial",
                "no-downgrade-protection",
                "2026-11-01T13:00:00Z",
                "2026-11-01T13:00:00Z",
            ],
            ["Empty", "", "", "", "", ""],
        ]

    def test_it_writes_one_json_object_per_domain_per_line(self, stored) -> None:
        lines = [
            json.loads(line) for line in _run("export_status", "--format", "json").splitlines()
        ]
        assert lines[0] == {
            "organization": "Alpha",
            "domain": "a.example",
            "level": "verified",
            "warnings": ["cert-expiring", "no-downgrade-protection"],
            "checked_at": "2026-11-01T12:00:00Z",
            "since": "2026-11-01T12:00:00Z",
        }
        assert lines[2] == {
            "organization": "Empty",
            "domain": None,
            "level": None,
            "warnings": [],
            "checked_at": None,
            "since": None,
        }
        assert len(lines) == 3
