"""One hostile server, certificate or AIA answer harms only its own address, never the batch."""

from __future__ import annotations

import asyncio
import time

from cryptography.hazmat.primitives.asymmetric import ec

from monitoring.probe import Level, certs, probe_domains
from monitoring.probe import engine as engine_module
from monitoring.probe.engine import probe_batch
from tests.probe.chains import make
from tests.probe.conftest import lab_probe_config

HOSTILE_AIA = [
    "aia-malformed-bracket",
    "aia-malformed-other",
    "aia-endless-header",
    "aia-trickle",
    "aia-huge-body",
]
HOSTILE_POLICY_HOSTS = ["mta-sts-endless-header", "mta-sts-trickle", "mta-sts-huge-body"]


def test_hostile_aia_answers_leave_every_other_domain_its_result(lab):
    names = [lab.domain(s) for s in [*HOSTILE_AIA, "verified", "aia-fetched"]]
    config = lab_probe_config(lab, probe_timeout=2.0)
    started = time.monotonic()
    results, batch = asyncio.run(probe_batch(names, config))
    # The AIA chase has its own deadline (at most the probe timeout): a trickle cannot hold it.
    assert time.monotonic() - started < 2 * config.probe_timeout + 3
    by_scenario = dict(zip([*HOSTILE_AIA, "verified", "aia-fetched"], results, strict=True))
    assert by_scenario["verified"].level is Level.VERIFIED
    assert by_scenario["aia-fetched"].mx[0].addresses[0].certificate.errors == ("incomplete-chain",)
    for scenario in HOSTILE_AIA:
        result = by_scenario[scenario]
        assert result.level is Level.ENCRYPTED, (scenario, result)
        assert result.mx[0].addresses[0].certificate.errors == ("untrusted",)
    failures = {f.url: f for f in batch.aia_fetches if f.error}
    bracket = failures["http://[evil/"]
    assert (bracket.error, bracket.detail.startswith("malformed URL")) == ("aia-url-refused", True)
    endless = next(f for url, f in failures.items() if url.endswith("/endless-header"))
    assert "header longer than" in endless.detail
    huge = next(f for url, f in failures.items() if url.endswith("/huge-body"))
    assert "too large" in huge.detail
    assert all(f.detail for f in failures.values())


def test_hostile_policy_hosts_only_invalidate_their_own_policy(lab):
    names = [lab.domain(s) for s in [*HOSTILE_POLICY_HOSTS, "mta-sts-enforce"]]
    config = lab_probe_config(lab, probe_timeout=2.0)
    started = time.monotonic()
    *hostile, good = probe_domains(names, config)
    assert time.monotonic() - started < 2 * config.probe_timeout + 2
    assert (good.mta_sts.mode, good.mta_sts.valid) == ("enforce", True)
    for result in hostile:
        assert result.level is Level.VERIFIED  # MTA-STS never changes the level
        assert result.mta_sts.valid is False
        assert result.mta_sts.errors == ("policy-fetch-failed",)
        assert result.mta_sts.detail, result.mta_sts
        assert "mta-sts-invalid" in result.warnings


def test_whatever_a_dialogue_raises_stays_with_its_address(lab, monkeypatch):
    """A failure no one foresaw (here, a parser bug) becomes one address's error with a detail."""
    bad_ip = lab.servers["verified-mx2"]["address"]
    real_dialogue = engine_module.smtp_dialogue

    async def flaky(host, ip, config):
        if ip == bad_ip:
            raise RuntimeError("parser tripped on hostile bytes")
        return await real_dialogue(host, ip, config)

    monkeypatch.setattr(engine_module, "smtp_dialogue", flaky)
    verified, other = probe_domains(
        [lab.domain("verified"), lab.domain("verified-rsa")], lab_probe_config(lab)
    )
    broken = verified.mx[1].addresses[0]
    assert (broken.ip, broken.error, broken.tested) == (bad_ip, "probe-failed", False)
    assert broken.detail == "RuntimeError: parser tripped on hostile bytes"
    assert verified.level is Level.VERIFIED  # the other MX still carries the domain
    assert "address-untested" in verified.warnings
    assert other.level is Level.VERIFIED


def test_a_certificate_no_parser_expected_stays_with_its_address(lab, monkeypatch):
    def explode(*args, **kwargs):
        raise ValueError("unsupported certificate oddity")

    monkeypatch.setattr(engine_module.certs, "analyze", explode)
    (result,) = probe_domains([lab.domain("verified-rsa")], lab_probe_config(lab))
    address = result.mx[0].addresses[0]
    assert address.tls_version is not None and address.certificate is None
    assert "unsupported certificate oddity" in address.detail
    assert result.level is Level.ENCRYPTED  # working STARTTLS, nothing verified


def ca(name: str, key: ec.EllipticCurvePrivateKey):
    return make(name, key, ca=True)


def test_the_intermediate_pool_forgets_the_least_recently_seen():
    key = ec.generate_private_key(ec.SECP256R1())
    pool = certs.IntermediatePool(max_certificates=3)
    first, *junk = [ca(f"CA {i}", key) for i in range(5)]
    pool.add_chain([first])
    for cert in junk:
        pool.add_chain([cert])
        pool.add_chain([first])  # seen again by the many servers that use it
    assert len(pool) == 3
    assert first in pool
    assert junk[0] not in pool and junk[-1] in pool


def test_look_alikes_cannot_crowd_out_a_subject():
    key = ec.generate_private_key(ec.SECP256R1())
    pool = certs.IntermediatePool()
    flood = [ca("Same Name CA", key) for _ in range(3 * certs.IntermediatePool.MAX_PER_SUBJECT)]
    for cert in flood:
        pool.add_chain([cert])
    leaf = make("mx.example.test", key, flood[0], key)
    assert len(pool.issuers_of(leaf)) == certs.IntermediatePool.MAX_PER_SUBJECT
    # One chain contributes a bounded number of certificates, however many it carries.
    other = certs.IntermediatePool()
    other.add_chain([ca(f"Chain CA {i}", key) for i in range(50)])
    assert len(other) == certs.IntermediatePool.MAX_PER_CHAIN
