"""The lab self-tests share one standard-world lab for the session."""

from __future__ import annotations

from tests.lab.fixtures import lab, lab_control  # noqa: F401 - pytest fixtures
