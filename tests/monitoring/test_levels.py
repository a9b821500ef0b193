"""The two level rules: an organization's inbound level and a pair's."""

from __future__ import annotations

import pytest

from monitoring.levels import inbound_level, is_better, pair_level, pair_verdict
from monitoring.probe import Level

V, E, P, T = Level.VERIFIED, Level.ENCRYPTED, Level.PARTIAL, Level.PLAINTEXT
U, N = Level.UNREACHABLE, Level.NO_MAIL


class TestInboundLevel:
    @pytest.mark.parametrize(
        ("domains", "expected"),
        [
            ([V], V),
            ([V, E], E),
            ([V, E, P], P),
            ([V, T, E], T),
            ([V, N], V),
            ([N, P], P),
            ([N], N),
            ([N, N], N),
            ([], None),
            ([None], None),
            ([None, V], V),
            ([V, U], U),
            ([E, U], U),
            ([P, U], U),
            ([T, U], T),
            ([U], U),
            ([U, N], U),
            (["verified", "plaintext"], T),
            (["", "encrypted"], E),
        ],
    )
    def test_it_takes_the_lowest_known_level(self, domains: list, expected: Level | None) -> None:
        assert inbound_level(domains) == expected

    def test_it_accepts_any_iterable(self) -> None:
        assert inbound_level(level for level in (V, E)) == E


class TestPairLevel:
    @pytest.mark.parametrize(
        ("a", "b", "expected"),
        [
            (V, V, V),
            (V, E, E),
            (E, V, E),
            (P, V, P),
            (V, T, T),
            (V, U, U),
            (T, U, T),
            (U, U, U),
            (V, None, None),
            (None, None, None),
            ("", V, None),
            (V, N, N),
            (N, N, N),
            ("encrypted", "partial", P),
        ],
    )
    def test_it_takes_the_lower_side(
        self, a: Level | None, b: Level | None, expected: Level | None
    ) -> None:
        assert pair_level(a, b) == expected
        assert pair_level(b, a) == expected


class TestIsBetter:
    def test_it_compares_on_the_scale(self) -> None:
        assert is_better(V, E) is True
        assert is_better(P, E) is False
        assert is_better(V, V) is None

    def test_it_refuses_levels_off_the_scale(self) -> None:
        assert is_better(U, V) is None
        assert is_better(V, None) is None
        assert is_better(N, T) is None


class TestPairVerdict:
    """Both directions: A->B is B's inbound capped by A's observed outbound, and back."""

    @pytest.mark.parametrize(
        ("a_in", "b_in", "a_out", "b_out", "a_to_b", "b_to_a", "level", "assumed"),
        [
            # Both send with TLS: the pair is the lower inbound level, nothing assumed.
            (V, E, "tls", "tls", E, V, E, False),
            # A brokerage that sends in plain text: every direction from it is plaintext.
            (V, V, "plaintext", "tls", T, V, T, False),
            # Old TLS caps a direction at partial, never raises it.
            (V, V, "legacy-tls", "tls", P, V, P, False),
            (V, T, "legacy-tls", "tls", T, V, T, False),
            # Never observed: inbound alone decides, and the pair says it assumed.
            (V, V, "unknown", "tls", V, V, V, True),
            (V, E, None, None, E, V, E, True),
            # A receiver we cannot reach stays unknown, unless the sender's plain text settles it.
            (V, U, "tls", "tls", U, V, U, False),
            (V, U, "plaintext", "tls", T, V, T, False),
            # No mail on one side: nothing to protect; a side never checked: not checked.
            (V, N, "plaintext", "tls", N, V, N, False),
            (V, None, "tls", "tls", None, V, None, False),
        ],
    )
    def test_it_takes_the_weaker_direction(
        self, a_in, b_in, a_out, b_out, a_to_b, b_to_a, level, assumed
    ) -> None:
        verdict = pair_verdict(a_in, b_in, a_out, b_out)
        assert (verdict.a_to_b, verdict.b_to_a, verdict.level, verdict.assumed) == (
            a_to_b,
            b_to_a,
            level,
            assumed,
        )

    def test_it_names_the_weaker_direction(self) -> None:
        assert pair_verdict(V, V, "plaintext", "tls").weaker == "a_to_b"
        assert pair_verdict(V, E, "tls", "tls").weaker == "a_to_b"
        assert pair_verdict(E, V, "tls", "tls").weaker == "b_to_a"
        assert pair_verdict(V, V, "tls", "tls").weaker == "both"

    def test_it_agrees_with_the_inbound_pair_rule_when_both_send_with_tls(self) -> None:
        for a in (V, E, P, T, U, N, None):
            for b in (V, E, P, T, U, N, None):
                assert pair_verdict(a, b, "tls", "tls").level == pair_level(a, b)
