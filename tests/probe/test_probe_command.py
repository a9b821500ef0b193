"""`manage.py probe`: the JSON interface of docs/probe.md, checked against the repo's schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import CommandError, call_command

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "monitoring/probe/schema/domain-result.schema.json"
    ).read_text()
)


@pytest.fixture
def lab_settings(settings, lab):
    ip, port = lab.resolver.rsplit(":", 1)
    settings.SECMAIL_DNS_RESOLVERS = [(ip, int(port))]
    settings.SECMAIL_CA_BUNDLE = lab.ca_bundle
    settings.SECMAIL_SMTP_PORT = lab.smtp_port
    settings.SECMAIL_MTA_STS_PORT = lab.https_port
    settings.SECMAIL_PROBE_TIMEOUT = 3
    settings.SECMAIL_CONNECT_TIMEOUT = 2
    settings.SECMAIL_EHLO_NAME = "probe.secmail.test"
    return settings


def run_probe(*args: str) -> str:
    out = io.StringIO()
    call_command("probe", *args, stdout=out)
    return out.getvalue()


def test_it_prints_one_schema_valid_json_object_per_domain(lab, lab_settings, tmp_path):
    scenarios = [
        "verified",
        "encrypted-self-signed",
        "partial",
        "plaintext",
        "unreachable-refused",
        "null-mx",
        "mta-sts-enforce",
        "dane-valid",
        "tls-rpt",
    ]
    listing = tmp_path / "domains.txt"
    listing.write_text("# scenario domains\n" + "\n".join(lab.domain(s) for s in scenarios[1:]))
    lines = run_probe(lab.domain(scenarios[0]), "--file", str(listing), "--json").splitlines()
    assert len(lines) == len(scenarios)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for scenario, line in zip(scenarios, lines, strict=True):
        document = json.loads(line)
        validator.validate(document)
        assert document["domain"] == lab.domain(scenario)
        assert document["level"] == lab.expect(scenario)["level"]
    verified = json.loads(lines[0])
    address = verified["mx"][0]["addresses"][0]
    assert address["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert address["certificate"]["trusted"] is True
    assert json.loads(lines[6])["mta_sts"] == {
        **json.loads(lines[6])["mta_sts"],
        "mode": "enforce",
        "valid": True,
    }
    assert json.loads(lines[7])["dane"] == {"tlsa": True, "dnssec": True, "valid": True}
    assert json.loads(lines[8])["tls_rpt"]["present"] is True


def test_it_prints_a_readable_table_by_default(lab, lab_settings):
    out = run_probe(lab.domain("encrypted-expired"))
    assert lab.domain("encrypted-expired") in out
    assert "encrypted" in out
    assert "expired" in out


def test_it_refuses_bad_names_before_probing(lab_settings):
    with pytest.raises(CommandError, match="invalid domain names"):
        run_probe("https://example.test/", "192.0.2.1")


def test_it_needs_a_domain():
    with pytest.raises(CommandError):
        run_probe()


def test_it_reports_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_probe("--file", str(tmp_path / "missing.txt"))


def test_it_reports_an_unusable_trust_bundle(lab_settings, tmp_path):
    bundle = tmp_path / "empty.pem"
    bundle.write_text("no certificates here\n")
    lab_settings.SECMAIL_CA_BUNDLE = str(bundle)
    with pytest.raises(CommandError, match="no certificate in the trust bundle"):
        run_probe("example.test")
