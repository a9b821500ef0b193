"""The two level rules: an organization's inbound level and a pair's."""

from __future__ import annotations

import pytest

from monitoring.levels import inbound_level, is_better, pair_level
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
