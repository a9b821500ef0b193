"""Start-up, the ready file, the bulk world and a clean shutdown."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import dns.resolver
import pytest

from tests.lab import LabError, start_lab
from tests.lab.world import bulk_world

from .util import permissive_context, resolver, smtp

READY_FIELDS = {"resolver", "ca_bundle", "smtp_port", "https_port", "control", "pid", "domains"}


def test_it_writes_the_ready_file(lab):
    ready = json.loads((lab.state_dir / "ready.json").read_text())
    assert set(ready) >= READY_FIELDS
    assert ready["pid"] == lab.process.pid
    assert "BEGIN CERTIFICATE" in Path(ready["ca_bundle"]).read_text()
    assert ready["domains"]["verified"] == {
        "domain": "verified.lab.test",
        "expect": {
            "level": "verified",
            "warnings": ["no-downgrade-protection"],
            "errors": [],
            "cert_errors": [],
        },
        "servers": ["verified-mx1", "verified-mx2"],
    }
    assert ready["startup_seconds"] < 3
    assert lab.env() == {
        "SECMAIL_DNS_RESOLVERS": lab.resolver,
        "SECMAIL_CA_BUNDLE": lab.ca_bundle,
        "SECMAIL_SMTP_PORT": str(lab.smtp_port),
        "SECMAIL_MTA_STS_PORT": str(lab.https_port),
        "SECMAIL_ALLOW_NONPUBLIC": "1",
    }


def test_it_starts_the_bulk_world_and_stops_with_nothing_left(tmp_path):
    started = time.monotonic()
    handle = start_lab(bulk_world(1000, distinct_mx_hosts=True), tmp_path)
    try:
        assert time.monotonic() - started < 10
        assert len(handle.domains) == 1000
        mx = resolver(handle).resolve(handle.domain("bulk-999"), "MX")[0].exchange.to_text()
        assert mx == "mx999.hosted.lab.test."
        address = str(resolver(handle).resolve(mx, "A")[0])
        server = handle.domains["bulk-999"]["servers"][0]
        assert handle.servers[server]["address"] == address
        client = smtp(handle, server)
        client.ehlo()
        client._host = mx.rstrip(".")
        client.starttls(context=permissive_context())
        client.quit()
    finally:
        code = handle.stop()
    assert code == 0
    with pytest.raises(ProcessLookupError):
        os.kill(handle.pid, 0)
    assert not (tmp_path / "ready.json").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, handle.smtp_port), timeout=1)
    with pytest.raises(dns.resolver.LifetimeTimeout):
        res = resolver(handle)
        res.lifetime = 0.3
        res.resolve("mx1.hosted.lab.test", "A")


def test_it_reports_a_lab_that_cannot_start(tmp_path):
    with pytest.raises(LabError, match="unknown world"):
        start_lab("no-such-world", tmp_path)
