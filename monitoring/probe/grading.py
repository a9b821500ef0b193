"""Grading: a domain's level and warnings from its facts, exactly as docs/probe.md says."""

from __future__ import annotations

from collections.abc import Iterable

from .model import DaneResult, Level, MtaStsResult, MxResult

NO_MAIL_ERRORS = {"nxdomain", "null-mx", "no-mx-no-address"}
EXPIRING_DAYS = 30

# Warnings in a fixed order, so output is stable and comparable between cycles.
WARNING_ORDER = (
    "cert-expiring",
    "weak-key",
    "weak-signature",
    "mta-sts-testing",
    "mta-sts-invalid",
    "dane-mismatch",
    "no-downgrade-protection",
    "address-untested",
)


def grade(
    *,
    error: str | None,
    mx: Iterable[MxResult],
    valid_certificates: dict[tuple[str, str], bool],
    mta_sts: MtaStsResult,
    dane: DaneResult,
) -> tuple[Level, tuple[str, ...]]:
    """Level and warnings. `valid_certificates` maps (host, ip) to the web PKI verdict."""
    if error in NO_MAIL_ERRORS:
        return Level.NO_MAIL, ()
    if error is not None:
        # The domain's own lookup failed: nothing is known, so nothing is warned about.
        return Level.UNREACHABLE, ()
    pairs = [(m.host, a) for m in mx for a in m.addresses]
    tested = [(host, a) for host, a in pairs if a.tested]
    warnings: set[str] = set()

    if any(not a.tested for _, a in pairs):
        warnings.add("address-untested")
    for _, address in tested:
        cert = address.certificate
        if cert is None:
            continue
        if 0 <= cert.days_left <= EXPIRING_DAYS:
            warnings.add("cert-expiring")
        if "weak-key" in cert.errors:
            warnings.add("weak-key")
        if "weak-signature" in cert.errors:
            warnings.add("weak-signature")
        if address.dane_match is False:
            warnings.add("dane-mismatch")
    if mta_sts.mode == "testing":
        warnings.add("mta-sts-testing")
    if mta_sts.valid is False:
        warnings.add("mta-sts-invalid")
    if not (mta_sts.mode == "enforce" and mta_sts.valid) and dane.valid is not True:
        warnings.add("no-downgrade-protection")

    ordered = tuple(w for w in WARNING_ORDER if w in warnings)
    if not tested:
        return Level.UNREACHABLE, ordered
    working = [(host, a) for host, a in tested if a.working_starttls]
    if not working:
        return Level.PLAINTEXT, ordered
    if len(working) < len(tested):
        return Level.PARTIAL, ordered
    if all(valid_certificates.get((host, a.ip), False) for host, a in working):
        return Level.VERIFIED, ordered
    return Level.ENCRYPTED, ordered
