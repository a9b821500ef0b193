"""Server time and SQL queries of the dashboard pages over a synthetic industry of 10,000.

Run: .venv/bin/python bench/matrix.py [--orgs 10000] [--small 1000] [--requests 20]

Starts a throwaway PostgreSQL (the test runner's helper), migrates, runs
`seed_industry --orgs N` (then again with --small, to show that query counts do not grow
with the data), and requests each page with Django's test client, logged in: the median time
of --requests requests after two warm-up requests, and the SQL queries of one request. The
time is the whole request inside the server (middleware, view, template), with no network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import django_for_bench, postgres_server  # noqa: E402

# (label, who, path template, target in ms); who picks the user, the path may name {slug}.
PAGES: list[tuple[str, str, str, int]] = [
    ("matrix, 50 rows", "staff", "/matrix/", 250),
    ("matrix, 50 rows", "member of a brokerage", "/matrix/", 100),
    ("matrix, 50 rows", "member of the busiest insurer", "/matrix/", 100),
    ("overview /", "staff", "/", 250),
    ("my partners", "member of a brokerage", "/partners/", 100),
    ("my partners", "member of the busiest insurer", "/partners/", 100),
    ("organization page", "member of a brokerage", "/orgs/{slug}/", 100),
    ("organization page", "member of the busiest insurer", "/orgs/{slug}/", 100),
    ("organization page", "staff (busiest insurer)", "/orgs/{slug}/", 250),
]


@dataclass
class Figure:
    median_ms: float
    queries: int
    status: int


def _viewers() -> dict[str, tuple[Any, str]]:
    """Each kind of viewer -> (user, slug of the organization its pages look at)."""
    from django.contrib.auth import get_user_model

    from monitoring import selectors
    from partners.models import Kind, Membership

    staff = get_user_model().objects.get(username="staff@synthetic.test")
    memberships = list(
        Membership.objects.filter(role=Membership.Role.VIEWER).select_related(
            "user", "organization"
        )
    )
    size = {m.pk: selectors.partners_of(m.organization_id).count() for m in memberships}
    insurers = sorted(
        (m for m in memberships if m.organization.kind == Kind.INSURER), key=lambda m: -size[m.pk]
    )
    brokerages = sorted(
        (m for m in memberships if m.organization.kind == Kind.BROKERAGE),
        key=lambda m: size[m.pk],
    )
    busiest = insurers[0]
    typical = brokerages[len(brokerages) // 2]  # the median brokerage of the seeded members
    return {
        "staff": (staff, ""),
        "member of a brokerage": (typical.user, typical.organization.slug),
        "member of the busiest insurer": (busiest.user, busiest.organization.slug),
        "staff (busiest insurer)": (staff, busiest.organization.slug),
    }


def _signed_in(client: Any, user: Any) -> Any:
    """A client logged in as `user` and past the second factor, as production asks of staff
    and organization admins (an authenticator app enrolled and its code accepted)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(requests: int) -> dict[tuple[str, str], Figure]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    viewers = _viewers()
    figures = {}
    for label, who, template, _target in PAGES:
        user, slug = viewers[who]
        client = _signed_in(Client(), user)
        path = template.format(slug=slug)
        for _ in range(2):  # warm up: templates compiled, translations loaded, plans cached
            response = client.get(path, secure=True)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path, secure=True)
            times.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        figures[(label, who)] = Figure(
            statistics.median(times) * 1000, len(queries), response.status_code
        )
    return figures


def seed(orgs: int) -> float:
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("seed_industry", "--orgs", str(orgs), "--reset", stdout=open(os.devnull, "w"))  # noqa: SIM115
    seconds = time.perf_counter() - started
    # A production database has planner statistics; a freshly loaded one has none yet.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="a second, smaller industry")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with postgres_server() as database:
        os.environ.pop("REDIS_URL", None)
        django_for_bench(database)
        from django.test.utils import override_settings, setup_test_environment

        setup_test_environment()  # lets the test client in (ALLOWED_HOSTS) as in tests
        # Production serves hashed static names from `collectstatic`; the bench has none.
        storages = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        results: dict[int, dict[tuple[str, str], Figure]] = {}
        seeded: dict[int, float] = {}
        with override_settings(STORAGES=storages):
            for orgs in (args.small, args.orgs):
                seeded[orgs] = seed(orgs)
                results[orgs] = measure(args.requests)
    small, large = args.small, args.orgs
    print(
        f"seed_industry: --orgs {small} in {seeded[small]:.1f} s, "
        f"--orgs {large} in {seeded[large]:.1f} s; "
        f"median of {args.requests} requests, PostgreSQL on {os.cpu_count()} cores"
    )
    header = (
        f"| page | viewer | {large:,} orgs: ms | queries | {small:,} orgs: ms | queries "
        "| target ms |"
    )
    print(header)
    print("|" + "---|" * 7)
    failed = []
    for label, who, _template, target in PAGES:
        big, little = results[large][(label, who)], results[small][(label, who)]
        mark = "" if big.median_ms < target and big.status == 200 else " MISSED"
        if mark or big.status != 200:
            failed.append(f"{label} as {who} (status {big.status})")
        print(
            f"| {label} | {who} | {big.median_ms:.0f} | {big.queries} | "
            f"{little.median_ms:.0f} | {little.queries} | < {target}{mark} |"
        )
    grew = [
        f"{label} as {who}"
        for label, who, _t, _g in PAGES
        if results[large][(label, who)].queries != results[small][(label, who)].queries
    ]
    print("query counts independent of size:", "yes" if not grew else f"NO: {', '.join(grew)}")
    if failed:
        print("missed targets:", "; ".join(failed))


if __name__ == "__main__":
    main()
