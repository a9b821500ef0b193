"""Shared pytest fixtures: the personas every test may use (environment: tests/environment.py).

Personas (healthchecks style): alice and bob are members of one organization (alice admin, bob
viewer), charlie belongs to another, and staff is industry staff who sees everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import override_settings

PASSWORD = "correct-horse-battery"


def _required() -> bool:
    return os.environ.get("SECMAIL_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Where every tool and service must be there (CI), a test that skips for want of one
    # (swaks, Postfix, root, a TLS version) did not check anything: that is a failure.
    outcome = yield
    report = outcome.get_result()
    if _required() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped where SECMAIL_REQUIRE_SERVICES=1 asks for everything: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked `services` check the real backends; they only make sense when the runner
    # was told to insist on them (CI, `SECMAIL_REQUIRE_SERVICES=1 make test`).
    if _required():
        return
    skip = pytest.mark.skip(reason="runs only with SECMAIL_REQUIRE_SERVICES=1")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    # A request in French leaves French active in this thread after the response; without a
    # reset, later tests would read translated text depending on the order they run in.
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _test_settings() -> Any:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        # Production uses hashed static names that need `collectstatic`; tests do not run it.
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # A real password hash costs ~0.5 s by design; tests create many users.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The second factor has its own tests (tests/security/); the others log in without one.
    with override_settings(
        STORAGES=storages, PASSWORD_HASHERS=hashers, SECMAIL_SECOND_FACTOR=False
    ):
        yield


@dataclass
class Personas:
    alice: Any
    bob: Any
    charlie: Any
    staff: Any
    alices_org: Any  # "Alpha Brokers" (brokerage): alice (admin), bob (viewer)
    charlies_org: Any  # "Charlie Insurance" (insurer): charlie (admin)
    password: str = PASSWORD


@pytest.fixture
def personas(db: None) -> Personas:
    """alice and bob in one organization, charlie in another, and a staff user."""
    from django.contrib.auth import get_user_model

    from partners.models import Kind, Membership
    from partners.services import membership_set, organization_create

    user_model = get_user_model()

    def user(name: str, **extra: Any) -> Any:
        email = f"{name}@example.org"
        return user_model.objects.create_user(
            username=email, email=email, password=PASSWORD, **extra
        )

    alices_org = organization_create(
        name="Alpha Brokers", kind=Kind.BROKERAGE, province="ON", domains=("alpha.example",)
    )
    charlies_org = organization_create(
        name="Charlie Insurance", kind=Kind.INSURER, province="QC", domains=("charlie.example",)
    )
    personas = Personas(
        alice=user("alice"),
        bob=user("bob"),
        charlie=user("charlie"),
        staff=user("staff", is_staff=True),
        alices_org=alices_org,
        charlies_org=charlies_org,
    )
    membership_set(user=personas.alice, organization=alices_org, role=Membership.Role.ADMIN)
    membership_set(user=personas.bob, organization=alices_org, role=Membership.Role.VIEWER)
    membership_set(user=personas.charlie, organization=charlies_org, role=Membership.Role.ADMIN)
    return personas


@pytest.fixture
def alice(personas: Personas) -> Any:
    return personas.alice


@pytest.fixture
def bob(personas: Personas) -> Any:
    return personas.bob


@pytest.fixture
def charlie(personas: Personas) -> Any:
    return personas.charlie


@pytest.fixture
def staff(personas: Personas) -> Any:
    return personas.staff
