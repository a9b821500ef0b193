"""Fixtures of the security tests: the dashboard's small world of organizations."""

from __future__ import annotations

from tests.dashboard.conftest import sent_batches, world  # noqa: F401 - pytest fixtures
