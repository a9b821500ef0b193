"""Tests for the enforcement export page and the configuration it writes."""

from __future__ import annotations

import pytest

from monitoring.dashboard import enforcement
from monitoring.probe import Level
from partners.models import Kind
from partners.services import domain_create, organization_create, partnership_create
from tests.dashboard.conftest import store
from tests.monitoring.factories import T0, result

pytestmark = pytest.mark.django_db

URL = "/orgs/alpha-brokers/enforce/"


@pytest.fixture
def partners(world):
    """Alpha's partners: Charlie (partial), Golf (verified, two hosts), Hotel (encrypted)."""
    golf = organization_create(name="Golf Assurance", kind=Kind.INSURER, domains=("golf.example",))
    hotel = organization_create(
        name="Hotel Brokers", kind=Kind.BROKERAGE, domains=("hotel.example",)
    )
    domain_create(organization=golf, name="golf-nomail.example")
    for partner in (golf, hotel):
        partnership_create(world.alpha, partner)
    store(
        T0,
        [
            result(
                "golf.example",
                Level.VERIFIED,
                hosts=(("mx1.golf.example", "192.0.2.1"), ("mx2.golf.example", "192.0.2.2")),
            ),
            result("golf-nomail.example", Level.NO_MAIL),
            result("hotel.example", Level.ENCRYPTED),
        ],
    )
    return world


def test_it_redirects_anonymous_users_to_login(client, world) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_is_for_members_only(client, world) -> None:
    client.force_login(world.personas.charlie)  # a partner, not a member
    assert client.get(URL).status_code == 404
    client.force_login(world.personas.bob)
    assert client.get(URL).status_code == 200


def test_it_lists_ready_and_not_ready_partners(client, partners) -> None:
    client.force_login(partners.personas.bob)
    response = client.get(URL)
    plan = response.context["plan"]
    assert [p.domain for p in plan.verified] == ["golf.example"]
    assert [p.domain for p in plan.encrypted] == ["hotel.example"]
    assert [n.partner.domain for n in plan.not_ready] == ["charlie.example"]
    page = response.content.decode()
    assert "Not safe to enforce yet" in page
    assert "Only some of its mail servers have working STARTTLS" in page
    assert "golf-nomail.example" not in page


def test_it_reads_the_plan_and_partner_changes_in_one_query_each(
    partners, django_assert_num_queries
) -> None:
    with django_assert_num_queries(1):
        plan = enforcement.enforcement_plan(organization=partners.alpha)
    assert [p.domain for p in plan.ready] == ["golf.example", "hotel.example"]
    with django_assert_num_queries(1):
        enforcement.partner_changes(organization=partners.alpha, since=T0)


def test_it_writes_postfix_policy_lines(partners) -> None:
    plan = enforcement.enforcement_plan(organization=partners.alpha)
    text = enforcement.postfix_policy(plan)
    lines = [line.split() for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        ["golf.example", "verify", "match=hostname"],
        ["hotel.example", "encrypt"],
    ]


def test_it_pins_mx_names_in_postfix_secure_mode(partners) -> None:
    plan = enforcement.enforcement_plan(organization=partners.alpha)
    text = enforcement.postfix_policy(plan, mode=enforcement.SECURE)
    lines = [line.split() for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        ["golf.example", "secure", "match=mx1.golf.example:mx2.golf.example"],
        ["hotel.example", "encrypt"],
    ]


def test_it_writes_exchange_online_connectors(partners) -> None:
    text = enforcement.exchange_online_script(
        enforcement.enforcement_plan(organization=partners.alpha)
    )
    assert (
        "New-OutboundConnector -Name 'secmail TLS DomainValidation - Golf Assurance' "
        "-ConnectorType Partner -RecipientDomains 'golf.example' -UseMXRecord $true "
        "-TlsSettings DomainValidation -TlsDomain '*.golf.example' -Enabled $true"
    ) in text
    assert "Set-OutboundConnector -Identity 'secmail TLS EncryptionOnly - Hotel Brokers'" in text
    assert "-TlsSettings EncryptionOnly" in text
    assert "charlie.example" not in text


def test_it_writes_exim_and_sendmail_equivalents(partners) -> None:
    plan = enforcement.enforcement_plan(organization=partners.alpha)
    exim = enforcement.exim_config(plan)
    assert "domainlist secmail_tls_verify = golf.example" in exim
    assert "domainlist secmail_tls_encrypt = hotel.example" in exim
    assert "tls_verify_cert_hostnames" in exim
    sendmail = enforcement.sendmail_access(plan)
    assert [line.split() for line in sendmail.splitlines() if not line.startswith("#")] == [
        ["TLS_Rcpt:golf.example", "VERIFY:128"],
        ["TLS_Rcpt:hotel.example", "ENCR:128"],
    ]


def test_it_quotes_organization_names_for_powershell(world) -> None:
    odd = organization_create(name="O'Brien Insurance", kind=Kind.INSURER, domains=("ob.example",))
    partnership_create(world.alpha, odd)
    store(T0, [result("ob.example", Level.ENCRYPTED)])
    text = enforcement.exchange_online_script(
        enforcement.enforcement_plan(organization=world.alpha)
    )
    assert "'secmail TLS EncryptionOnly - O''Brien Insurance'" in text


def test_it_falls_back_to_certificate_validation_without_a_common_name() -> None:
    assert enforcement._tls_domain(("mx.a.example", "mx.b.example")) is None
    assert enforcement._tls_domain(("mx1.a.example", "mx2.a.example")) == "*.a.example"
    assert enforcement._tls_domain(("a.example",)) == "a.example"


def test_it_shows_the_feed_fetch_command_and_cron_line(client, partners) -> None:
    client.force_login(partners.personas.bob)
    page = client.get(URL).content.decode()
    assert "Authorization: Bearer" in page
    assert "http://testserver/api/v1/organizations/alpha-brokers/policy/postfix" in page
    assert "postmap hash:/etc/postfix/tls_policy" in page
    assert "*/15 * * * * root /usr/local/sbin/secmail-tls-policy" in page


def test_it_lists_partner_changes_in_the_exchange_script(client, partners) -> None:
    from datetime import timedelta

    store(
        T0 + timedelta(days=1),
        [result("hotel.example", Level.PLAINTEXT, at=T0 + timedelta(days=1))],
    )
    client.force_login(partners.personas.bob)
    response = client.get(URL + "?since=2026-11-02")
    (script,) = [text for key, _title, text in response.context["configs"] if key == "exchange"]
    assert "Partner levels changed since 2026-11-02:" in script
    assert "Hotel Brokers (hotel.example): encrypted -> plaintext" in script
    later = client.get(URL + "?since=2026-11-03").context["configs"]
    assert "No partner level changed since 2026-11-03." in later[1][2]


def test_it_shows_how_each_ready_partner_sends(client, world) -> None:
    from monitoring.dashboard.enforcement import enforcement_plan
    from monitoring.models import OrganizationStatus

    OrganizationStatus.objects.filter(pk=world.alpha.pk).update(outbound="legacy-tls")
    plan = enforcement_plan(organization=world.charlie)
    outbound = {partner.organization: partner.outbound for partner in plan.ready}
    assert outbound == {"Alpha Brokers": "legacy-tls"}
    client.force_login(world.personas.charlie)
    page = client.get(f"/orgs/{world.charlie.slug}/enforce/").content.decode()
    assert "sends with old TLS (1.0/1.1)" in page
