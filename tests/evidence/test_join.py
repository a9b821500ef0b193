"""TLS reports beside the probe's facts on the organization page, and what 'worth a look' is."""

from __future__ import annotations

import dataclasses

import pytest
from django.contrib.auth import get_user_model

from monitoring.evidence.join import reports_beside_probes
from monitoring.evidence.selectors import tlsrpt_by_domain
from monitoring.evidence.services import tlsrpt_ingest
from monitoring.probe import Level
from monitoring.selectors import domain_observations, organization_domains
from partners.models import Kind, Membership
from partners.services import membership_set
from tests.dashboard.conftest import store
from tests.evidence.conftest import ALPHA, CHARLIE
from tests.evidence.reports import as_json, google_report
from tests.monitoring.factories import T0, certificate, organization, result

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):  # noqa: ANN001, ANN201
    settings.SECMAIL_RECEIVER_DOMAIN = "receiver.example.org"
    alpha = organization("Alpha Brokers", ALPHA)
    charlie = organization("Charlie Insurance", CHARLIE, kind=Kind.INSURER)
    expired = dataclasses.replace(certificate(f"mx2.{ALPHA}"), expired=True, errors=("expired",))
    hosts = ((f"mx1.{ALPHA}", "192.0.2.24"), (f"mx2.{ALPHA}", "192.0.2.25"))
    store(
        T0,
        [
            result(ALPHA, Level.ENCRYPTED, hosts=hosts, cert=expired),
            result(CHARLIE, Level.PLAINTEXT, hosts=((f"mail.{CHARLIE}", "192.0.2.26"),)),
        ],
    )
    tlsrpt_ingest(chunks=[as_json(google_report())], kind="json", channel="file")
    return alpha, charlie


def _evidence(org):  # noqa: ANN001, ANN202
    statuses = organization_domains(organization=org)
    found = reports_beside_probes(
        statuses=statuses, observations=domain_observations(statuses=statuses)
    )
    return found[statuses[0].domain_id]


def test_it_tells_what_the_probe_explains_from_what_is_worth_a_look(world) -> None:
    alpha, charlie = world
    evidence = _evidence(alpha)
    [google] = evidence.reporters
    # The report's sts and tlsa entries describe the same sessions: the largest figures count.
    assert (google.reporter, google.successful, google.failed) == ("Google Inc.", 2310, 14)
    lines = {(line.result_type, line.mx_host): line for line in google.failures}
    assert lines[("certificate-expired", f"mx2.{ALPHA}")].explained  # the probe saw it expire
    assert lines[("certificate-expired", f"mx2.{ALPHA}")].count == 12
    assert not lines[("tlsa-invalid", f"mx1.{ALPHA}")].explained  # no DANE fact explains it
    assert {line.result_type for line in evidence.worth_a_look} == {
        "tlsa-invalid",
        "dnssec-invalid",
    }
    # The page's per-sender figures add up to what export_tlsrpt says of the domain.
    [exported] = [d for d in tlsrpt_by_domain(days=30) if d.domain == ALPHA]
    assert sum(f.successful for f in evidence.reporters) == exported.successful
    assert sum(f.failed for f in evidence.reporters) == exported.failed
    page_failures: dict[str, int] = {}
    for line in google.failures:
        page_failures[line.result_type] = page_failures.get(line.result_type, 0) + line.count
    assert page_failures == exported.failures
    [charlie_google] = _evidence(charlie).reporters
    [line] = charlie_google.failures
    assert (line.result_type, line.explained) == ("starttls-not-supported", True)


def test_it_shows_reports_and_the_test_address_to_members_only(client, world) -> None:
    alpha, charlie = world
    member = get_user_model().objects.create_user("it@alpha.example")
    membership_set(user=member, organization=alpha, role=Membership.Role.VIEWER)
    partner = get_user_model().objects.create_user("it@charlie.example")
    membership_set(user=partner, organization=charlie, role=Membership.Role.VIEWER)
    from partners.services import partnership_create

    partnership_create(alpha, charlie)
    client.force_login(member)
    page = client.get(f"/orgs/{alpha.slug}/").content.decode()
    assert "Google Inc." in page and "2324 sessions, 14 failed" in page
    assert "worth a look" in page
    assert "@receiver.example.org" in page  # the outbound test address
    client.force_login(partner)
    seen_by_partner = client.get(f"/orgs/{alpha.slug}/").content.decode()
    assert "Google Inc." not in seen_by_partner
    assert "@receiver.example.org" not in seen_by_partner


def test_it_advises_the_tls_rpt_record_that_reaches_secmail(client, world) -> None:
    _alpha, charlie = world
    member = get_user_model().objects.create_user("it@charlie.example")
    membership_set(user=member, organization=charlie, role=Membership.Role.VIEWER)
    client.force_login(member)
    page = client.get(f"/orgs/{charlie.slug}/").content.decode()
    assert f"_smtp._tls.{CHARLIE}" in page
    assert "v=TLSRPTv1; rua=mailto:tlsrpt@receiver.example.org" in page


def test_a_failure_both_entries_of_a_report_list_counts_once(settings) -> None:
    settings.SECMAIL_RECEIVER_DOMAIN = "receiver.example.org"
    alpha = organization("Alpha Brokers", ALPHA)
    store(T0, [result(ALPHA, Level.ENCRYPTED, hosts=((f"mx1.{ALPHA}", "192.0.2.24"),))])
    report = google_report()
    sts, tlsa = report["policies"][:2]  # the entries for ALPHA
    # The tlsa entry lists the same 12 failed sessions the sts entry does.
    tlsa["failure-details"].append(dict(sts["failure-details"][0]))
    tlsrpt_ingest(chunks=[as_json(report)], kind="json", channel="file")
    [exported] = tlsrpt_by_domain(days=30)
    assert exported.failures["certificate-expired"] == 12
    [google] = _evidence(alpha).reporters
    counts = {(line.result_type, line.mx_host): line.count for line in google.failures}
    assert counts[("certificate-expired", f"mx2.{ALPHA}")] == 12
