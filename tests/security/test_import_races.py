"""Registry imports: concurrent runs are serialized, and over-long addresses fail the dry run."""

from __future__ import annotations

import contextlib
import io
import threading

import pytest
from django.db import connection

from partners import csvio
from partners.models import Organization

HEADER = "organization,kind,province,domains,contacts,partners\n"
NEW_ORG = HEADER + "Nouvelle Assurance,insurer,QC,nouvelle.example,it@nouvelle.example,\n"


@pytest.mark.django_db
def test_it_rejects_an_address_over_254_characters_in_the_dry_run() -> None:
    local = "a" * 64
    domain = ".".join(["b" * 60] * 4) + ".ca"  # 247 characters: valid labels, too long a path
    address = f"{local}@{domain}"
    assert len(address) > 254
    text = HEADER + f"Long Mail Inc,brokerage,ON,long.example,{address},\n"
    report = csvio.import_partners(io.BytesIO(text.encode()), dry_run=True)
    assert not report.ok
    assert "longer than 254" in str(report.errors[0])


# PostgreSQL only: the race is PostgreSQL's (SQLite's in-memory test database locks whole tables).
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_it_serializes_two_imports_of_the_same_new_organization(monkeypatch) -> None:
    # Each import waits after reading the registry for the other to have read it too. Without
    # serialization both plan to insert the organization and one fails on the unique slug;
    # serialized, the second reads only after the first has committed.
    both_read = threading.Barrier(2, timeout=3)
    original_load = csvio._Registry.load.__func__

    def load_then_wait(cls):  # noqa: ANN001, ANN202
        registry = original_load(cls)
        # A broken barrier means the other import is held back: the wanted behaviour.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return registry

    monkeypatch.setattr(csvio._Registry, "load", classmethod(load_then_wait))
    reports: list[csvio.ImportReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(csvio.import_partners(io.BytesIO(NEW_ORG.encode())))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert [report.ok for report in reports] == [True, True]
    assert sorted((r.created, r.unchanged) for r in reports) == [(0, 1), (1, 0)]
    assert Organization.objects.filter(slug="nouvelle-assurance").count() == 1
