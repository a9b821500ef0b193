"""The control channel changes the world at runtime."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest

from tests.lab import LabControlError

from .util import permissive_context, presented_chain, smtp, starttls


def test_it_swaps_a_certificate(lab, lab_control):
    server = "verified-rsa"
    lab_control.set_cert(server, "expired")
    try:
        client, sock = starttls(lab, server)
        leaf = presented_chain(sock)[0]
        client.quit()
        assert leaf.not_valid_after_utc < dt.datetime.now(dt.UTC)
    finally:
        lab_control.set_cert(server, "rsa-2048")
    client, sock = starttls(lab, server)
    assert presented_chain(sock)[0].not_valid_after_utc > dt.datetime.now(dt.UTC)
    client.quit()


def test_it_changes_a_behavior(lab, lab_control):
    server = "tls-rpt"
    lab_control.set_behavior(server, "no-starttls")
    try:
        client = smtp(lab, server)
        client.ehlo()
        assert "starttls" not in client.esmtp_features
        client.quit()
        lab_control.set_behavior(server, "legacy-only")
        legacy_ok = permissive_context(minimum=ssl.TLSVersion.TLSv1)
        client, sock = starttls(lab, server, legacy_ok)
        assert sock.version() in ("TLSv1", "TLSv1.1")
        client.quit()
    finally:
        lab_control.set_behavior(server, "normal")
    client, sock = starttls(lab, server)
    assert sock.version() == "TLSv1.3"
    client.quit()


def test_it_resets_stats(lab, lab_control):
    client = smtp(lab, "plaintext")
    client.quit()
    assert lab_control.stats()["servers"]["plaintext"]["connections"] == 1
    lab_control.reset_stats()
    stats = lab_control.stats()
    assert stats["totals"]["connections"] == 0
    assert stats["dns"]["queries"] == 0


def test_it_reports_bad_commands(lab_control):
    with pytest.raises(LabControlError, match="unknown profile"):
        lab_control.set_cert("verified-rsa", "no-such-profile")
    with pytest.raises(LabControlError, match="no server"):
        lab_control.set_cert("no-such-server", "valid")
    with pytest.raises(LabControlError, match="unknown behavior"):
        lab_control.set_behavior("plaintext", "dance")
    with pytest.raises(LabControlError, match="unknown command"):
        lab_control.command("fly")
    assert lab_control.ping()["ok"]
