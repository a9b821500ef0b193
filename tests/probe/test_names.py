"""Domain names as the probe accepts them."""

from __future__ import annotations

import pytest

from monitoring.probe.names import normalize_domain


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Example.CA", "example.ca"),
        ("example.ca.", "example.ca"),
        ("  mail.example.ca ", "mail.example.ca"),
        ("assurance-québec.ca", "xn--assurance-qubec-mnb.ca"),
        ("xn--assurance-qubec-mnb.ca", "xn--assurance-qubec-mnb.ca"),
    ],
)
def test_it_normalizes(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "192.0.2.1",
        "[2001:db8::1]",
        "2001:db8::1",
        "https://example.ca",
        "example.ca:25",
        "user@example.ca",
        "a..b",
        "-bad.ca",
        "bad-.ca",
        "localhost",
        "exa mple.ca",
        "a" * 64 + ".ca",
        ".".join(["abcdefghi"] * 26) + ".ca",
        "under_score.ca",
    ],
)
def test_it_rejects(raw):
    with pytest.raises(ValueError):
        normalize_domain(raw)
