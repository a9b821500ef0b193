"""Mail domain names as the probe and the registry take them: lowercase A-labels, no final dot."""

from __future__ import annotations

import ipaddress
import re

import idna

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class InvalidDomain(ValueError):
    """A domain name we refuse; the message says why, for a person to read."""


def normalize_domain(raw: str) -> str:
    """Return the canonical form of a mail domain, or raise InvalidDomain saying what is wrong.

    Accepts Unicode names (IDNA 2008 with UTS #46 mapping), any case, a final dot.
    """
    if not isinstance(raw, str):
        raise InvalidDomain("a domain name must be text")
    name = raw.strip()
    if not name:
        raise InvalidDomain("the domain name is empty")
    if "://" in name or "/" in name or "\\" in name:
        raise InvalidDomain(f"{name!r} looks like a URL; give the domain name alone")
    if "@" in name:
        raise InvalidDomain(f"{name!r} looks like an email address; give the domain after the @")
    if _is_ip_address(name):
        raise InvalidDomain(f"{name!r} is an IP address, not a domain name")
    if ":" in name:
        raise InvalidDomain(f"{name!r} has a port or a colon; give the domain name alone")
    if any(ch.isspace() for ch in name):
        raise InvalidDomain(f"{name!r} contains white space")
    # One final dot is the DNS root (example.ca.); more would be an empty label.
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    if any(label == "" for label in labels):
        raise InvalidDomain(f"{raw.strip()!r} has an empty label (two dots in a row?)")
    ascii_labels = [_to_a_label(label) for label in labels]
    for label in ascii_labels:
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidDomain(
                f"the label {label[:20]}... is {len(label)} characters long; "
                f"the limit is {MAX_LABEL_LENGTH}"
            )
        if not _LDH_LABEL.match(label):
            raise InvalidDomain(
                f"the label {label!r} may hold only letters, digits and hyphens, "
                "and may not start or end with a hyphen"
            )
    if len(ascii_labels) < 2:
        raise InvalidDomain(f"{raw.strip()!r} has a single label; a mail domain needs at least two")
    if ascii_labels[-1].isdigit():
        raise InvalidDomain(
            f"{raw.strip()!r} ends in a numeric label, which no top-level domain is"
        )
    result = ".".join(ascii_labels)
    if len(result) > MAX_NAME_LENGTH:
        raise InvalidDomain(
            f"the name is {len(result)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    return result


def _to_a_label(label: str) -> str:
    if label.isascii():
        label = label.lower()
        if label.startswith("xn--"):
            # Reject punycode that does not decode to a valid IDNA 2008 label.
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise InvalidDomain(f"the label {label!r} is not valid punycode ({exc})") from None
        return label
    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidDomain(
            f"the label {label!r} is not a valid internationalized label ({exc})"
        ) from None


_IPV4_CHARS = frozenset("0123456789.")


def is_ip_literal(text: str) -> bool:
    """Whether `text` is an IPv4 or IPv6 address as written, with no brackets."""
    if ":" not in text and not _IPV4_CHARS.issuperset(text):
        # No colon and a character no IPv4 literal has (most names): no parse that raises.
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_ip_address(name: str) -> bool:
    # Bracketed literals are address syntax, whatever they hold.
    return name.startswith("[") or is_ip_literal(name)


def display_domain(name: str) -> str:
    """The Unicode form of a stored A-label name, for showing to people."""
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name
