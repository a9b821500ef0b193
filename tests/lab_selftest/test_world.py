"""The lab's claims cover docs/probe.md: every level, warning and error code has a scenario."""

from __future__ import annotations

from tests.lab.world import LEVELS, WorldSpec, bulk_world, standard_world

WARNINGS = {
    "cert-expiring",
    "weak-key",
    "weak-signature",
    "mta-sts-testing",
    "mta-sts-invalid",
    "dane-mismatch",
    "no-downgrade-protection",
    "address-untested",
}
ERRORS = {
    "connection-refused",
    "timeout",
    "no-address",
    "greeting-4xx",
    "greeting-5xx",
    "ehlo-rejected",
    "starttls-not-offered",
    "starttls-rejected",
    "tls-handshake-failed",
    "tls-legacy-only",
    "nxdomain",
    "null-mx",
    "no-mx-no-address",
    "dns-timeout",
    "dns-servfail",
}
CERT_ERRORS = {
    "expired",
    "not-yet-valid",
    "self-signed",
    "untrusted",
    "hostname-mismatch",
    "incomplete-chain",
    "weak-key",
    "weak-signature",
}


def test_it_covers_every_level_warning_and_error_code(lab):
    expects = [d["expect"] for d in lab.domains.values()]
    assert {e["level"] for e in expects} == set(LEVELS)
    assert {w for e in expects for w in e["warnings"]} == WARNINGS
    assert {c for e in expects for c in e["errors"]} >= ERRORS
    assert {c for e in expects for c in e["cert_errors"]} == CERT_ERRORS


def test_it_follows_designs_warning_rules(lab):
    for name, entry in lab.domains.items():
        expect = entry["expect"]
        protected = name in ("mta-sts-enforce", "dane-valid", "dane-usage2")
        if expect["level"] == "no-mail":
            assert expect["warnings"] == [], name
        else:
            may_warn = expect["warnings"] + expect.get("warnings_optional", [])
            assert ("no-downgrade-protection" in may_warn) is not protected, name
        untested = {"connection-refused", "timeout", "no-address", "greeting-4xx", "greeting-5xx"}
        if expect["level"] != "no-mail" and untested & set(expect["errors"]):
            assert "address-untested" in expect["warnings"], name


def test_it_round_trips_worlds_through_json(tmp_path):
    for world in (standard_world(), bulk_world(20, distinct_mx_hosts=False, n_shared_hosts=5)):
        path = tmp_path / f"{world.name}.json"
        world.save(path)
        assert WorldSpec.load(path) == world


def test_it_spreads_bulk_hosts_over_few_addresses():
    distinct = bulk_world(1000, distinct_mx_hosts=True)
    assert len(distinct.smtp) == 8
    assert len({r.value for r in distinct.records if r.rdtype == "MX"}) == 1000
    assert {c.names[0] for s in distinct.smtp for c in s.certs} == {"*.hosted.lab.test"}
    shared = bulk_world(1000, distinct_mx_hosts=False)
    assert len({r.value for r in shared.records if r.rdtype == "MX"}) == 100
