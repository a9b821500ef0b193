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
    from django.db import transaction

    from monitoring import tasks

    sent: list[tuple[int, list[int]]] = []

    def delay(cycle_id: int, domain_ids: list[int]) -> Any:
        sent.append((cycle_id, list(domain_ids)))

    monkeypatch.setattr(tasks.probe_batch, "delay", delay)
    monkeypatch.setattr(transaction, "on_commit", lambda func, *args, **kwargs: func())
    yield sent
