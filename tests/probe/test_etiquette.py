"""Deadlines, politeness and de-duplication, measured on the lab's own counters."""

from __future__ import annotations

import asyncio
import time

import pytest

from monitoring.probe import Level, probe_domains
from monitoring.probe.engine import probe_batch
from monitoring.probe.smtp import smtp_dialogue
from tests.probe.conftest import lab_probe_config

HOSTILE = [
    "hostile-drip-feed",
    "hostile-garbage",
    "hostile-reset",
    "hostile-endless-multiline",
    "hostile-long-line",
    "hostile-close-after-starttls",
    "unreachable-timeout",
    "unreachable-dns-timeout",
]


def test_the_whole_probe_deadline_holds_against_hostile_servers(lab):
    config = lab_probe_config(lab, probe_timeout=1.5, connect_timeout=1.0, dns_timeout=1.0)
    started = time.monotonic()
    results = probe_domains([lab.domain(s) for s in HOSTILE], config)
    elapsed = time.monotonic() - started
    # Slow greeting and drip feed would hold a naive client for minutes.
    assert elapsed < 6, elapsed
    assert [r.domain for r in results] == [lab.domain(s) for s in HOSTILE]
    for result in results:
        assert result.level in (Level.UNREACHABLE, Level.PLAINTEXT)
        codes = [a.error for m in result.mx for a in m.addresses] + [result.error]
        assert any(codes), result


@pytest.mark.parametrize("scenario", HOSTILE[:6])
def test_a_hostile_dialogue_ends_in_an_error_code_not_an_exception(lab, scenario):
    server = lab.servers[lab.domains[scenario]["servers"][0]]
    config = lab_probe_config(lab, probe_timeout=1.5)
    dialogue = asyncio.run(smtp_dialogue(server["hostname"], server["address"], config))
    assert dialogue.error is not None
    assert dialogue.tls_version is None


def test_the_batch_deadline_cancels_what_is_left(lab):
    config = lab_probe_config(lab, probe_timeout=30, batch_timeout=1.0)
    started = time.monotonic()
    slow, quick = probe_domains([lab.domain("unreachable-timeout"), lab.domain("verified")], config)
    assert time.monotonic() - started < 4
    assert slow.error == "batch-deadline"
    assert slow.level is Level.UNREACHABLE
    assert quick.level is Level.VERIFIED


def test_each_host_address_pair_is_probed_once_and_politely(lab, lab_control):
    # Five domains whose MX are the same two servers: one dialogue per (host, address).
    names = [lab.domain("verified")] * 3 + [lab.domain("verified-wildcard")] * 2
    results, batch = asyncio.run(probe_batch(names, lab_probe_config(lab)))
    stats = lab_control.stats()
    servers = [lab.domains[s]["servers"] for s in ("verified", "verified-wildcard")]
    pairs = {name for group in servers for name in group}
    assert sum(stats["servers"][name]["connections"] for name in pairs) == len(pairs)
    assert batch.handshakes == len(pairs)
    assert all(stats["addresses"][a]["max_concurrent"] <= 1 for a in stats["addresses"])
    assert stats["totals"]["mail_commands"] == 0
    assert all(r.level is Level.VERIFIED for r in results)


def test_it_never_sends_mail_commands(lab, lab_control, standard_results):
    lab_control.reset_stats()
    probe_domains([lab.domain("verified"), lab.domain("plaintext")], lab_probe_config(lab))
    stats = lab_control.stats()
    assert stats["totals"]["connections"] >= 3
    assert stats["totals"]["mail_commands"] == 0
