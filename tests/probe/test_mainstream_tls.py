"""Working STARTTLS is what a mainstream sender can negotiate: TLS 1.2+, a certificate."""

from __future__ import annotations

import asyncio

from monitoring.probe import Level, probe_domains
from monitoring.probe.smtp import smtp_dialogue
from tests.probe.conftest import lab_probe_config


def dialogue_with(lab, server: str):
    spec = lab.servers[server]
    return asyncio.run(smtp_dialogue(spec["hostname"], spec["address"], lab_probe_config(lab)))


def test_an_anonymous_only_server_has_no_working_starttls(lab):
    dialogue = dialogue_with(lab, "plaintext-anonymous-only")
    assert dialogue.error == "tls-handshake-failed"
    assert dialogue.detail.startswith("anonymous cipher suites only")
    assert (dialogue.tls_version, dialogue.cipher, dialogue.chain_der) == (None, None, ())
    (result,) = probe_domains([lab.domain("plaintext-anonymous-only")], lab_probe_config(lab))
    assert result.level is Level.PLAINTEXT
    assert result.level is not Level.ENCRYPTED


def test_a_legacy_only_server_is_named_so_and_its_certificate_kept(lab):
    dialogue = dialogue_with(lab, "plaintext-legacy-only")
    assert dialogue.error == "tls-legacy-only"
    assert dialogue.detail.startswith("negotiated TLSv1")
    assert dialogue.tls_version is None
    assert dialogue.chain_der  # its certificate can still expire, and be reported


def test_a_modern_server_needs_one_session(lab, lab_control):
    dialogue = dialogue_with(lab, "verified-rsa")
    assert dialogue.error is None and dialogue.tls_version in ("TLSv1.2", "TLSv1.3")
    assert lab_control.stats("verified-rsa")["servers"]["verified-rsa"]["connections"] == 1
