"""Fixtures for the monitoring pipeline tests: the lab, and synthetic probe results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab.fixtures import lab, lab_control  # noqa: F401 - pytest fixtures


@pytest.fixture
def sent_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, list[int]]]]:
    """Capture the batches services send to the broker instead of sending them.

    on_commit callbacks run at once: these tests run in a transaction that never commits.
    """
    from celery import current_app
    from django.db import transaction

    from monitoring import cycles, tasks

    sent: list[tuple[int, list[int]]] = []
    # Every app's tasks registered, as in a worker (stored batches send alerts by name).
    current_app.loader.import_default_modules()

    def delay(cycle_id: int, domain_ids: list[int]) -> Any:
        sent.append((cycle_id, list(domain_ids)))

    monkeypatch.setattr(tasks.probe_batch, "delay", delay)
    # The batches are taken as a worker on the probe queue would take them.
    monkeypatch.setattr(cycles, "probe_consumers", lambda **kwargs: ["captured@test"])
    # No DNS beyond loopback: new domains' MX hosts are unknown, so they go by name.
    monkeypatch.setattr(cycles, "mx_hosts", lambda names, config: {})
    monkeypatch.setattr(transaction, "on_commit", lambda func, *args, **kwargs: func())
    yield sent
