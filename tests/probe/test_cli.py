"""`python -m monitoring.probe`: the same probe in a clean interpreter, without Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "monitoring/probe/schema/domain-result.schema.json").read_text())
SCENARIOS = ["verified", "plaintext-anonymous-only", "mta-sts-enforce", "null-mx"]


def clean_env(lab, **extra: str) -> dict[str, str]:
    """Only what a shell user would set: no Django settings module, no SECRET_KEY."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    env.update(lab.env())
    env.update(SECMAIL_PROBE_TIMEOUT="3", SECMAIL_EHLO_NAME="probe.secmail.test")
    env.update(extra)
    return env


def probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitoring.probe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_probes_in_a_clean_interpreter_and_prints_schema_valid_json(lab):
    done = probe(clean_env(lab), "--json", *(lab.domain(s) for s in SCENARIOS))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(SCENARIOS)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for scenario, line in zip(SCENARIOS, lines, strict=True):
        document = json.loads(line)
        validator.validate(document)
        assert document["domain"] == lab.domain(scenario)
        assert document["level"] == lab.expect(scenario)["level"]
    assert json.loads(lines[2])["mta_sts"]["valid"] is True


def test_it_loads_no_django(lab, tmp_path):
    listing = tmp_path / "domains.txt"
    listing.write_text(f"# one domain\n{lab.domain('verified')}\n")
    code = (
        "import sys; from monitoring.probe.cli import main; "
        f"status = main(['--file', {str(listing)!r}]); "
        "assert status == 0, status; "
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print('django modules:', loaded)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(lab),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"{lab.domain('verified')}  verified" in done.stdout
    assert "django modules: []" in done.stdout


def test_it_refuses_non_public_addresses_unless_allowed(lab):
    done = probe(clean_env(lab, SECMAIL_ALLOW_NONPUBLIC="0"), "--json", lab.domain("verified"))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    errors = {a["error"] for m in document["mx"] for a in m["addresses"]}
    assert (document["level"], errors) == ("unreachable", {"non-public-address"})


def test_it_says_which_setting_is_wrong(lab):
    done = probe(clean_env(lab, SECMAIL_SMTP_PORT="seventy"), lab.domain("verified"))
    assert done.returncode == 2
    assert "SECMAIL_SMTP_PORT='seventy'" in done.stderr
    done = probe(clean_env(lab), "https://example.test/")
    assert done.returncode == 2
    assert "invalid domain names" in done.stderr
