"""pytest plugin (loaded with `-p tests.environment`): test-only environment defaults.

It runs before pytest-django imports the settings, which a conftest.py would be too late for.
Tests run with DEBUG off like production, and a key that exists only here.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DEBUG", "0")
# Every server a test probes is a lab server on loopback, which the probe refuses by default.
os.environ.setdefault("SECMAIL_ALLOW_NONPUBLIC", "1")
