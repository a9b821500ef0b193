"""Probe tests run against the loopback lab: real DNS, SMTP and HTTPS servers."""

from __future__ import annotations

import pytest

from monitoring.probe import DomainResult, ProbeConfig, probe_domains
from tests.lab import LabHandle
from tests.lab.fixtures import lab, lab_control  # noqa: F401

# Short deadlines keep hostile servers (slow greeting, drip feed) from slowing the suite; the
# deadline logic is the same as with the 30 s default.
PROBE_TIMEOUT = 3.0


def lab_probe_config(handle: LabHandle, **overrides: object) -> ProbeConfig:
    ip, port = handle.resolver.rsplit(":", 1)
    values: dict[str, object] = dict(
        resolvers=((ip, int(port)),),
        ca_bundle=handle.ca_bundle,
        smtp_port=handle.smtp_port,
        https_port=handle.https_port,
        ehlo_name="probe.secmail.test",
        connect_timeout=2.0,
        probe_timeout=PROBE_TIMEOUT,
        # Generous: a DNS answer the loaded lab is slow to give must not read as a timeout.
        dns_timeout=4.0,
        # The lab lives on loopback, which production refuses to connect to.
        allow_nonpublic=True,
    )
    values.update(overrides)
    return ProbeConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def standard_results(lab: LabHandle) -> dict[str, DomainResult]:  # noqa: F811
    """Every scenario of the standard world, probed once in a single batch."""
    scenarios = list(lab.domains)
    results = probe_domains([lab.domain(s) for s in scenarios], lab_probe_config(lab))
    return dict(zip(scenarios, results, strict=True))
