"""Probe configuration: resolver lists as SECMAIL_DNS_RESOLVERS takes them, bounds, fallbacks."""

from __future__ import annotations

import pytest

from monitoring.probe import Level, ProbeConfig, parse_resolvers, probe_domain
from tests.probe.conftest import lab_probe_config
from tests.services import free_port


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1", (("127.0.0.1", 53),)),
        ("127.0.0.1:5353, ::1", (("127.0.0.1", 5353), ("::1", 53))),
        ("[::1]:5300", (("::1", 5300),)),
        ("", ()),
    ],
)
def test_it_parses_resolver_lists(text, expected):
    assert parse_resolvers(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:x", "[::1", "::1]:53"])
def test_it_refuses_what_is_not_an_address(text):
    with pytest.raises(ValueError):
        parse_resolvers(text)


@pytest.mark.parametrize(
    "field, value",
    [("smtp_port", 0), ("probe_timeout", 0), ("max_connections", 0), ("ehlo_name", " ")],
)
def test_it_refuses_unusable_settings(field, value):
    with pytest.raises(ValueError):
        ProbeConfig(**{field: value})


def test_a_dead_resolver_is_passed_over_for_the_next(lab):
    config = lab_probe_config(lab)
    dead = ("127.0.0.1", free_port())
    config = lab_probe_config(lab, resolvers=(dead, *config.resolvers))
    assert probe_domain(lab.domain("verified"), config).level is Level.VERIFIED


def test_a_resolver_that_refuses_us_is_a_dns_failure_not_no_mail(lab):
    config = lab_probe_config(lab, resolvers=(("127.0.0.1", free_port()),), dns_timeout=1.0)
    result = probe_domain(lab.domain("verified"), config)
    assert (result.level, result.error) == (Level.UNREACHABLE, "dns-servfail")
