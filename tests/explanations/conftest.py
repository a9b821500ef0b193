"""Comply-or-explain fixtures: the dashboard's small industry."""

from __future__ import annotations

from tests.dashboard.conftest import world  # noqa: F401 - a pytest fixture
