"""The readiness scale, its one owner: order, letters, labels, regressions, inbound and pair rules.

docs/levels.md says the same rules in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from monitoring.probe.model import Level

# The scale a sender can rely on, best first; the other levels are "unknown" or "not applicable".
SCALE = (Level.VERIFIED, Level.ENCRYPTED, Level.PARTIAL, Level.PLAINTEXT)
# The key for "no level yet" in figures (None does not survive JSON or templates well).
NOT_CHECKED = "not-checked"
# Every level key in the order pages, digests and exports list them: best first, then the
# unknowns, then not checked.
DISPLAY_ORDER: tuple[str, ...] = (*(str(level) for level in Level), NOT_CHECKED)
# Worst first where attention is needed (my partners): known problems, then unknowns, then the
# good, then no mail.
ATTENTION_ORDER: dict[Level | None, int] = {
    Level.PLAINTEXT: 0,
    Level.PARTIAL: 1,
    Level.UNREACHABLE: 2,
    None: 3,
    Level.ENCRYPTED: 4,
    Level.VERIFIED: 5,
    Level.NO_MAIL: 6,
}


class LevelChoice(models.TextChoices):
    """The levels as stored in a level column ("" is "not checked"), with translated labels."""

    VERIFIED = "verified", _("Verified")
    ENCRYPTED = "encrypted", _("Encrypted")
    PARTIAL = "partial", _("Partial")
    PLAINTEXT = "plaintext", _("Plain text")
    UNREACHABLE = "unreachable", _("Unreachable")
    NO_MAIL = "no-mail", _("No mail")


# What a level shows besides its colour, so a page reads without colour (and in print): the
# standard's sender policy letter on the scale, a sign off it.
LEVEL_SIGNS: dict[str, str] = {
    **{str(level): level.policy for level in SCALE},
    str(Level.UNREACHABLE): "?",
    str(Level.NO_MAIL): "–",
    NOT_CHECKED: "·",
}
LEVEL_LABELS: dict[str, Promise] = {**dict(LevelChoice.choices), NOT_CHECKED: _("Not checked")}
POLICY_LABELS: dict[str, Promise] = {
    "d": _("d: TLS required, certificate verified"),
    "c": _("c: TLS required"),
    "b": _("b: TLS if available (enforcing would bounce mail)"),
    "a": _("a: plain text"),
}
WARNING_LABELS: dict[str, Promise] = {
    "cert-expiring": _("certificate expiring"),
    "weak-key": _("weak key"),
    "weak-signature": _("weak signature"),
    "mta-sts-testing": _("MTA-STS testing"),
    "mta-sts-invalid": _("MTA-STS invalid"),
    "dane-mismatch": _("DANE mismatch"),
    "no-downgrade-protection": _("no downgrade protection"),
    "address-untested": _("address untested"),
}


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


def _known(level: Level | str | None) -> Level | None:
    """as_level that also takes the NOT_CHECKED key, as None."""
    return as_level(level) if level != NOT_CHECKED else None


def level_key(level: Level | str | None) -> str:
    """A level (or stored value, or NOT_CHECKED) as the key figures and templates use."""
    found = _known(level)
    return str(found) if found is not None else NOT_CHECKED


def level_label(level: Level | str | None) -> Promise:
    """A level as words, translated when rendered."""
    return LEVEL_LABELS[level_key(level)]


def enforceable_policy(level: Level | str | None) -> str | None:
    """The TLS policy a sender may enforce to a receiver at this level: "d" (TLS and a
    verified name) or "c" (TLS); None where enforcing would bounce mail or nothing is known."""
    found = _known(level)
    policy = found.policy if found is not None else None
    return policy if policy in ("c", "d") else None


def policy_label(policy: str | None) -> Promise:
    return POLICY_LABELS.get(policy or "", _("unknown"))


def warning_label(code: str) -> str:
    """A warning code as words; an unknown code is shown as it is."""
    found = WARNING_LABELS.get(code)
    return str(found) if found is not None else code


def attention_rank(level: Level | str | None) -> int:
    return ATTENTION_ORDER[_known(level)]


REGRESSION = "regression"
IMPROVEMENT = "improvement"
OTHER = "other"


def change_direction(old: Level | str | None, new: Level | str | None) -> str:
    """How a move from `old` to `new` reads: REGRESSION, IMPROVEMENT or OTHER.

    A regression is a drop on the scale, or any move to `plaintext` (so `unreachable` ->
    `plaintext` is one: a server we could not reach now answers without TLS). An improvement
    is a rise on the scale. Moves to or from the levels off the scale are neither.
    """
    before, after = as_level(old), as_level(new)
    if before is None or before == after:
        return OTHER
    if after is Level.PLAINTEXT:
        return REGRESSION
    better = is_better(after, before)
    if better is None:
        return OTHER
    return IMPROVEMENT if better else REGRESSION


# -- both directions of a pair ------------------------------------------------------------------
# A sender's outbound TLS, as its test messages to secmail's receiver showed it (docs/levels.md).
OUTBOUND_TLS = "tls"
OUTBOUND_LEGACY_TLS = "legacy-tls"
OUTBOUND_PLAINTEXT = "plaintext"
OUTBOUND_UNKNOWN = "unknown"
OUTBOUND_ORDER = (OUTBOUND_TLS, OUTBOUND_LEGACY_TLS, OUTBOUND_PLAINTEXT, OUTBOUND_UNKNOWN)
OUTBOUND_LABELS: dict[str, Promise] = {
    OUTBOUND_TLS: _("sends with TLS"),
    OUTBOUND_LEGACY_TLS: _("sends with old TLS (1.0/1.1)"),
    OUTBOUND_PLAINTEXT: _("sends in plain text"),
    OUTBOUND_UNKNOWN: _("sending never observed"),
}
# What a sender's outbound caps the direction it sends at.
_OUTBOUND_CAP = {OUTBOUND_PLAINTEXT: Level.PLAINTEXT, OUTBOUND_LEGACY_TLS: Level.PARTIAL}


class OutboundChoice(models.TextChoices):
    TLS = OUTBOUND_TLS, _("TLS")
    LEGACY_TLS = OUTBOUND_LEGACY_TLS, _("Old TLS")
    PLAINTEXT = OUTBOUND_PLAINTEXT, _("Plain text")
    UNKNOWN = OUTBOUND_UNKNOWN, _("Unknown")


def outbound_label(outbound: str | None) -> Promise:
    return OUTBOUND_LABELS.get(outbound or OUTBOUND_UNKNOWN, OUTBOUND_LABELS[OUTBOUND_UNKNOWN])


def direction_level(receiver: Level | str | None, sender_outbound: str | None) -> Level | None:
    """How mail from a sender to a receiver is protected: the receiver's inbound level,
    capped at `plaintext` when the sender sends in plain text and at `partial` when it uses
    TLS 1.0/1.1. An unknown outbound caps nothing (the pair is then shown as assumed)."""
    level = as_level(receiver)
    cap = _OUTBOUND_CAP.get(sender_outbound or OUTBOUND_UNKNOWN)
    if level is None or level is Level.NO_MAIL or cap is None:
        return level
    return lowest_level((level, cap))


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """Both directions of a pair and the level the pair can exchange mail at."""

    level: Level | None
    a_to_b: Level | None
    b_to_a: Level | None
    assumed: bool  # a side's outbound was never observed: its sending is assumed to use TLS

    @property
    def weaker(self) -> str:
        """Which direction sets the pair's level: "a_to_b", "b_to_a" or "both"."""
        if self.a_to_b == self.b_to_a:
            return "both"
        return "a_to_b" if self.level == self.a_to_b else "b_to_a"


def pair_verdict(
    a_inbound: Level | str | None,
    b_inbound: Level | str | None,
    a_outbound: str | None = None,
    b_outbound: str | None = None,
) -> PairVerdict:
    """The pair rule in both directions: A->B is B's inbound capped by A's outbound, and the
    reverse; the pair is the lower direction (pair_level), assumed when an outbound is unknown."""
    a_to_b = direction_level(b_inbound, a_outbound)
    b_to_a = direction_level(a_inbound, b_outbound)
    assumed = OUTBOUND_UNKNOWN in (a_outbound or OUTBOUND_UNKNOWN, b_outbound or OUTBOUND_UNKNOWN)
    return PairVerdict(
        level=pair_level(a_to_b, b_to_a), a_to_b=a_to_b, b_to_a=b_to_a, assumed=assumed
    )
