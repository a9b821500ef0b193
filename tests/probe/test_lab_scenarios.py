"""Every level, warning and error code, from a real lab server, judged per docs/probe.md."""

from __future__ import annotations

import pytest

from tests.lab.world import standard_world

SCENARIOS = sorted(s.name for s in standard_world().scenarios)


def address_errors(result) -> set[str]:
    return {a.error for m in result.mx for a in m.addresses if a.error}


def cert_errors(result) -> set[str]:
    return {
        code
        for m in result.mx
        for a in m.addresses
        if a.tested and a.certificate
        for code in a.certificate.errors
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_it_concludes_what_the_lab_expects(scenario, lab, standard_results):
    expect = lab.expect(scenario)
    result = standard_results[scenario]
    assert result.domain == lab.domain(scenario)
    assert str(result.level) == expect["level"], result
    optional = set(expect.get("warnings_optional", ()))
    assert set(result.warnings) - optional == set(expect["warnings"]) - optional, result.warnings
    errors = address_errors(result) | ({result.error} if result.error else set())
    if expect.get("errors_exact", True):
        assert errors == set(expect["errors"]), errors
    else:
        assert errors, "an untestable address must say why"
    assert set(expect.get("cert_errors", ())) <= cert_errors(result)
    if "tls_rpt" in expect:
        assert result.tls_rpt.present is expect["tls_rpt"]


def test_dane_needs_a_secure_mx_answer(standard_results):
    assert standard_results["dane-valid"].dane.valid is True
    insecure = standard_results["dane-insecure-mx"].dane
    assert (insecure.tlsa, insecure.dnssec, insecure.valid) == (True, False, False)
    unsigned = standard_results["dane-unsigned"].dane
    assert (unsigned.tlsa, unsigned.dnssec, unsigned.valid) == (True, False, False)
