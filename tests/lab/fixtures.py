"""pytest fixtures: ``from tests.lab.fixtures import lab`` in a conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import LabControl, LabHandle, start_lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    """The "standard" world, started once per test session in its own process."""
    handle = start_lab("standard", tmp_path_factory.mktemp("lab"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def lab_control(lab: LabHandle) -> Iterator[LabControl]:
    """The control client with fresh stats for each test."""
    client = lab.client()
    client.reset_stats()
    yield client
