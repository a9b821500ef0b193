"""A demo industry for `make run`: fictional insurers and brokerages under the .test TLD.

Everything here is demo data: the names are invented and .test (RFC 2606) never resolves on
the internet. The domains live in the loopback lab's "demo" world (tests/lab), which
`make run` starts, so the demo's probes meet real servers with a realistic mix of levels.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from partners.models import Contact, Kind, MailDomain, Membership, Organization
from partners.services import organization_slug, partnership_create

DEMO_NOTE = "DEMO DATA: fictional organization created by `manage.py seed_demo`."
LOGINS_FILE = "demo-logins.txt"

# (name, kind, province, domains)
ORGANIZATIONS: list[tuple[str, str, str, list[str]]] = [
    (
        "Maple Mutual Insurance",
        Kind.INSURER,
        "ON",
        ["maplemutual.demo.lab.test", "maple-mutual.demo.lab.test"],
    ),
    ("Laurentian General", Kind.INSURER, "QC", ["laurentiangeneral.demo.lab.test"]),
    ("Prairie Shield Assurance", Kind.INSURER, "SK", ["prairieshield.demo.lab.test"]),
    ("Pacific Harbour Insurance", Kind.INSURER, "BC", ["pacificharbour.demo.lab.test"]),
    ("Atlantic Anchor Insurance", Kind.INSURER, "NS", ["atlanticanchor.demo.lab.test"]),
    ("Rideau Brokers", Kind.BROKERAGE, "ON", ["rideaubrokers.demo.lab.test"]),
    ("Courtage Saint-Laurent", Kind.BROKERAGE, "QC", ["courtage-stlaurent.demo.lab.test"]),
    ("Chinook Insurance Brokers", Kind.BROKERAGE, "AB", ["chinookbrokers.demo.lab.test"]),
    ("Red River Brokerage", Kind.BROKERAGE, "MB", ["redriverbrokerage.demo.lab.test"]),
    ("Fundy Coast Brokers", Kind.BROKERAGE, "NB", ["fundycoast.demo.lab.test"]),
    ("Island Cover Brokers", Kind.BROKERAGE, "PE", ["islandcover.demo.lab.test"]),
    ("Northern Lights Brokerage", Kind.BROKERAGE, "YT", ["northernlights.demo.lab.test"]),
]

# Brokerages place business with several insurers; insurers exchange claims with each other.
PARTNERSHIPS: list[tuple[str, str]] = [
    ("Rideau Brokers", "Maple Mutual Insurance"),
    ("Rideau Brokers", "Laurentian General"),
    ("Rideau Brokers", "Atlantic Anchor Insurance"),
    ("Courtage Saint-Laurent", "Laurentian General"),
    ("Courtage Saint-Laurent", "Maple Mutual Insurance"),
    ("Chinook Insurance Brokers", "Prairie Shield Assurance"),
    ("Chinook Insurance Brokers", "Pacific Harbour Insurance"),
    ("Red River Brokerage", "Prairie Shield Assurance"),
    ("Red River Brokerage", "Maple Mutual Insurance"),
    ("Fundy Coast Brokers", "Atlantic Anchor Insurance"),
    ("Island Cover Brokers", "Atlantic Anchor Insurance"),
    ("Northern Lights Brokerage", "Pacific Harbour Insurance"),
    ("Maple Mutual Insurance", "Laurentian General"),
]

STAFF_EMAIL = "staff@demo.test"
BROKER_EMAIL = "broker@demo.test"
INSURER_ADMIN_EMAIL = "insurer-admin@demo.test"
# (email, is_staff, organization name or None, membership role)
USERS: list[tuple[str, bool, str | None, str]] = [
    (STAFF_EMAIL, True, None, ""),
    (BROKER_EMAIL, False, "Rideau Brokers", Membership.Role.VIEWER),
    (INSURER_ADMIN_EMAIL, False, "Maple Mutual Insurance", Membership.Role.ADMIN),
]


@dataclass
class DemoResult:
    organizations_created: int = 0
    logins: dict[str, str] = field(default_factory=dict)  # email -> password, new users only


def demo_loaded() -> bool:
    return Organization.objects.filter(notes=DEMO_NOTE).exists()


@transaction.atomic
def load_demo() -> DemoResult:
    """Create (or complete) the demo industry; safe to run again. Passwords only for new users."""
    result = DemoResult()
    by_name: dict[str, Organization] = {}
    for name, kind, province, domains in ORGANIZATIONS:
        organization, created = Organization.objects.get_or_create(
            slug=organization_slug(name),
            defaults={"name": name, "kind": kind, "province": province, "notes": DEMO_NOTE},
        )
        result.organizations_created += int(created)
        by_name[name] = organization
        for domain in domains:
            MailDomain.objects.get_or_create(name=domain, defaults={"organization": organization})
        local = "it" if kind == Kind.INSURER else "office"
        Contact.objects.get_or_create(
            organization=organization,
            email=f"{local}@{domains[0]}",
            defaults={"name": f"{name} IT", "role": Contact.Role.IT},
        )
    for a, b in PARTNERSHIPS:
        partnership_create(by_name[a], by_name[b])

    user_model = get_user_model()
    for email, is_staff, org_name, role in USERS:
        user, created = user_model.objects.get_or_create(
            username=email,
            defaults={"email": email, "is_staff": is_staff, "is_superuser": is_staff},
        )
        if created:
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save(update_fields=["password"])
            result.logins[email] = password
        if org_name:
            Membership.objects.get_or_create(
                user=user, organization=by_name[org_name], defaults={"role": role}
            )
    if result.logins:
        _remember_logins(result.logins)
    return result


def _remember_logins(logins: dict[str, str]) -> None:
    """Keep demo passwords in var/ (readable by this user only) so `make run` can show them."""
    path = Path(settings.VAR_DIR) / LOGINS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    known = dict(line.split(" ", 1) for line in _lines(path))
    known.update(logins)
    path.write_text("".join(f"{email} {pw}\n" for email, pw in known.items()), encoding="utf-8")
    path.chmod(0o600)


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if " " in line]


def demo_logins() -> dict[str, str]:
    """Demo email -> password as recorded when the users were created."""
    path = Path(settings.VAR_DIR) / LOGINS_FILE
    return dict(line.split(" ", 1) for line in _lines(path))
