"""The `make run` demo world: its domains meet real lab servers and show a mix of levels."""

from __future__ import annotations

from monitoring.probe import Level, probe_domains
from tests.lab import start_lab
from tests.lab.world import DEMO_DOMAINS
from tests.probe.conftest import lab_probe_config


def test_the_demo_domains_show_every_kind_of_readiness(tmp_path):
    with start_lab("demo", tmp_path) as demo:
        names = [f"{name}.demo.lab.test" for name in DEMO_DOMAINS]
        levels = {r.domain: r.level for r in probe_domains(names, lab_probe_config(demo))}
    assert levels["maplemutual.demo.lab.test"] is Level.VERIFIED
    assert levels["prairieshield.demo.lab.test"] is Level.ENCRYPTED
    assert levels["atlanticanchor.demo.lab.test"] is Level.PARTIAL
    assert levels["rideaubrokers.demo.lab.test"] is Level.PLAINTEXT
    assert levels["islandcover.demo.lab.test"] is Level.UNREACHABLE
