"""Tests for the TLS policy feed: conditional fetches, a regression, and a real postmap."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest

from monitoring.probe import Level
from partners.models import Kind
from partners.services import organization_create, partnership_create
from tests.dashboard.conftest import store
from tests.monitoring.factories import T0, result

pytestmark = pytest.mark.django_db

FEED = "/organizations/alpha-brokers/policy/postfix"


@pytest.fixture
def partners(world):
    """Alpha's partners: Charlie (partial), Golf (verified), Hotel (encrypted)."""
    golf = organization_create(name="Golf Assurance", kind=Kind.INSURER, domains=("golf.example",))
    hotel = organization_create(
        name="Hotel Brokers", kind=Kind.BROKERAGE, domains=("hotel.example",)
    )
    for partner in (golf, hotel):
        partnership_create(world.alpha, partner)
    store(
        T0,
        [
            result("golf.example", Level.VERIFIED, hosts=(("mx1.golf.example", "192.0.2.1"),)),
            result("hotel.example", Level.ENCRYPTED),
        ],
    )
    return world


def _entries(text: str) -> dict[str, list[str]]:
    return {
        line.split()[0]: line.split()[1:]
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    }


def test_it_serves_members_only(api_as, partners) -> None:
    assert api_as(partners.personas.bob).get(FEED).status_code == 200
    assert api_as(partners.personas.staff).get(FEED).status_code == 200
    assert api_as(partners.personas.charlie).get(FEED).status_code == 404  # a partner


def test_it_answers_304_until_a_partner_regresses(api_as, partners) -> None:
    caller = api_as(partners.personas.alice)
    first = caller.get(FEED)
    assert first.status_code == 200
    assert first["Content-Type"].startswith("text/plain")
    assert first["Last-Modified"]
    assert _entries(first.content.decode()) == {
        "golf.example": ["verify", "match=hostname"],
        "hotel.example": ["encrypt"],
    }
    etag = first["ETag"]
    # The next scheduled fetches, with nothing changed (another cycle, same verdicts).
    store(
        T0 + timedelta(days=1),
        [
            result(
                "golf.example",
                Level.VERIFIED,
                at=T0 + timedelta(days=1),
                hosts=(("mx1.golf.example", "192.0.2.1"),),
            ),
            result("hotel.example", Level.ENCRYPTED, at=T0 + timedelta(days=1)),
        ],
    )
    again = caller.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    # Golf's certificate lapses and its STARTTLS breaks: the next fetch leaves it out.
    store(
        T0 + timedelta(days=2), [result("golf.example", Level.PLAINTEXT, at=T0 + timedelta(days=2))]
    )
    after = caller.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200
    assert after["ETag"] != etag
    assert _entries(after.content.decode()) == {"hotel.example": ["encrypt"]}


def test_it_drops_a_verified_partner_to_encrypt_when_only_verification_fails(
    api_as, partners
) -> None:
    caller = api_as(partners.personas.alice)
    store(
        T0 + timedelta(days=1), [result("golf.example", Level.ENCRYPTED, at=T0 + timedelta(days=1))]
    )
    assert _entries(caller.get(FEED).content.decode())["golf.example"] == ["encrypt"]


def test_it_pins_mx_names_in_secure_mode(api_as, partners) -> None:
    text = api_as(partners.personas.alice).get(FEED + "?mode=secure").content.decode()
    assert _entries(text)["golf.example"] == ["secure", "match=mx1.golf.example"]


def test_it_serves_exim_and_sendmail_tables(api_as, partners) -> None:
    caller = api_as(partners.personas.alice)
    exim = caller.get("/organizations/alpha-brokers/policy/exim").content.decode()
    assert "domainlist secmail_tls_verify = golf.example" in exim
    sendmail = caller.get("/organizations/alpha-brokers/policy/sendmail").content.decode()
    assert "TLS_Rcpt:hotel.example" in sendmail
    assert caller.get("/organizations/alpha-brokers/policy/qmail").status_code == 422


def test_it_writes_a_table_postmap_accepts(api_as, partners, tmp_path) -> None:
    """Debian's postfix package is installed here (see the CI script); no main.cf is needed
    beyond an empty one in a private configuration directory."""
    postmap = shutil.which("postmap") or "/usr/sbin/postmap"
    config = tmp_path / "postfix"
    config.mkdir()
    (config / "main.cf").write_text("")
    table = tmp_path / "tls_policy"
    table.write_text(api_as(partners.personas.alice).get(FEED).content.decode())
    subprocess.run([postmap, "-c", str(config), f"hash:{table}"], check=True)
    for domain, policy in (
        ("golf.example", "verify match=hostname"),
        ("hotel.example", "encrypt"),
        ("charlie.example", ""),
    ):
        found = subprocess.run(
            [postmap, "-c", str(config), "-q", domain, f"hash:{table}"],
            capture_output=True,
            text=True,
        )
        assert found.stdout.strip() == policy
