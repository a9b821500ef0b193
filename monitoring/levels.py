"""The two rules that combine readiness levels: an organization's inbound level and a pair's."""

from __future__ import annotations

from collections.abc import Iterable

from monitoring.probe.model import Level

# The scale a sender can rely on, best first; the other levels are "unknown" or "not applicable".
SCALE = (Level.VERIFIED, Level.ENCRYPTED, Level.PARTIAL, Level.PLAINTEXT)


def as_level(value: Level | str | None) -> Level | None:
    """A stored value ("" or None for "not checked") as a Level."""
    if value is None or value == "":
        return None
    return Level(value)


def lowest_level(levels: Iterable[Level | str | None]) -> Level | None:
    """Combine the levels of several receiving domains into what a sender can count on.

    - `no-mail` is left out: the domain receives no mail, so it cannot weaken anything;
      when every level is `no-mail` the result is `no-mail`.
    - `None` (never probed) is left out; with nothing else the result is None ("not checked").
    - `unreachable` means unknown: the result is `plaintext` when that is the lowest known
      level (it cannot get worse), else `unreachable`, because we cannot claim better than
      we know.
    - otherwise the lowest level on the verified > encrypted > partial > plaintext scale.
    """
    known: list[Level] = []
    unreachable = no_mail = False
    for value in levels:
        level = as_level(value)
        if level is None:
            continue
        if level is Level.NO_MAIL:
            no_mail = True
        elif level is Level.UNREACHABLE:
            unreachable = True
        else:
            known.append(level)
    lowest = min(known, key=lambda level: level.rank) if known else None
    if lowest is Level.PLAINTEXT:
        return lowest
    if unreachable:
        return Level.UNREACHABLE
    if lowest is not None:
        return lowest
    return Level.NO_MAIL if no_mail else None


def inbound_level(domain_levels: Iterable[Level | str | None]) -> Level | None:
    """An organization's inbound level from the levels of its active mail domains."""
    return lowest_level(domain_levels)


def pair_level(a: Level | str | None, b: Level | str | None) -> Level | None:
    """What two organizations can exchange mail at: the lower of their inbound levels.

    Unlike a single organization's domains, a pair is only as known as both sides: a side
    never checked makes the pair None, and a side that receives no mail makes it `no-mail`
    (there is no direction of mail to protect).
    """
    left, right = as_level(a), as_level(b)
    if left is None or right is None:
        return None
    if Level.NO_MAIL in (left, right):
        return Level.NO_MAIL
    return lowest_level((left, right))


def is_better(new: Level | str | None, old: Level | str | None) -> bool | None:
    """True for an improvement, False for a regression, None when not comparable on the scale."""
    left, right = as_level(new), as_level(old)
    if left is None or right is None or left.rank < 0 or right.rank < 0:
        return None
    if left.rank == right.rank:
        return None
    return left.rank > right.rank
