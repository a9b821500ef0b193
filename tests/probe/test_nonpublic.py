"""Never a private address: MX, implicit MX, MTA-STS policy host and AIA URLs alike."""

from __future__ import annotations

import asyncio

import pytest

from monitoring.probe import Level, ProbeConfig
from monitoring.probe.aia import fetch_issuers
from monitoring.probe.config import is_public_address
from monitoring.probe.engine import probe_batch
from monitoring.probe.lookup import Resolver
from tests.probe.conftest import lab_probe_config

SCENARIOS = [
    "verified",
    "verified-ipv6",
    "implicit-mx",
    "mta-sts-enforce",
    "aia-fetched",
    "dane-valid",
]


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.77.0.2",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "192.0.2.10",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "not an address",
    ],
)
def test_it_knows_a_non_public_address(ip):
    assert is_public_address(ip) is False


@pytest.mark.parametrize("ip", ["8.8.8.8", "151.101.1.1", "2001:4860:4860::8888"])
def test_it_knows_a_public_address(ip):
    assert is_public_address(ip) is True


def test_without_the_flag_nothing_in_the_lab_is_connected_to(lab, lab_control):
    config = lab_probe_config(lab, allow_nonpublic=False)
    results, batch = asyncio.run(probe_batch([lab.domain(s) for s in SCENARIOS], config))
    stats = lab_control.stats()
    assert stats["totals"]["connections"] == 0, stats["totals"]
    assert stats["totals"]["requests"] == 0
    assert batch.handshakes == 0
    for scenario, result in zip(SCENARIOS, results, strict=True):
        addresses = [a for m in result.mx for a in m.addresses]
        assert addresses, scenario
        assert {a.error for a in addresses} == {"non-public-address"}, scenario
        assert all(not a.tested and a.detail for a in addresses)
        # Untested like a refused address: the level says nothing about TLS.
        assert result.level is Level.UNREACHABLE
        assert "address-untested" in result.warnings
    sts = results[SCENARIOS.index("mta-sts-enforce")].mta_sts
    assert (sts.valid, sts.errors) == (False, ("non-public-address",))
    # DNS still goes to the configured resolver: that is the operator's choice, not the domain's.
    assert stats["dns"]["queries"] > 0


def test_aia_fetches_refuse_other_ports_and_private_addresses(lab):
    async def fetch(url: str, config: ProbeConfig):
        resolver = Resolver(config)
        try:
            return await fetch_issuers(url, resolver, config)
        finally:
            resolver.close()

    strict = lab_probe_config(lab, allow_nonpublic=False)
    other_port = asyncio.run(fetch("http://aia.example.test:6379/latest/meta-data/", strict))
    assert other_port.error == "aia-url-refused" and "port 6379" in other_port.detail
    metadata = asyncio.run(fetch("http://169.254.169.254/latest/meta-data/", strict))
    assert metadata.error == "non-public-address"
    by_name = asyncio.run(fetch(f"http://aia.{lab.zone}/aia-inter.pem", strict))
    assert by_name.error == "non-public-address"
    allowed = lab_probe_config(lab)
    fetched = asyncio.run(fetch(f"http://aia.{lab.zone}:{lab.http_port}/aia-inter.pem", allowed))
    assert fetched.error is None and len(fetched.issuers) == 1
