"""Mail domain names as the probe and the registry store them: lowercase A-labels, no final dot."""

from __future__ import annotations

import ipaddress
import re

import idna

MAX_NAME = 253
MAX_LABEL = 63
LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(raw: str) -> str:
    """Return the canonical form of a mail domain, or raise ValueError saying what is wrong."""
    if not isinstance(raw, str):
        raise ValueError("a domain name must be text")
    name = raw.strip()
    if not name:
        raise ValueError("the domain name is empty")
    if "://" in name or "/" in name or "@" in name:
        raise ValueError(f"{raw!r} looks like a URL or an address, not a domain name")
    if name.startswith("[") or _is_ip(name):
        raise ValueError(f"{raw!r} is an IP address, not a domain name")
    if ":" in name:
        raise ValueError(f"{raw!r} has a port; give the domain name alone")
    if any(ch.isspace() for ch in name):
        raise ValueError(f"{raw!r} contains white space")
    name = name.rstrip(".")
    if not name or ".." in name or name.startswith("."):
        raise ValueError(f"{raw!r} has an empty label")
    labels = name.split(".")
    try:
        ascii_labels = [_to_ascii(label) for label in labels]
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise ValueError(f"{raw!r} is not a valid internationalized name: {exc}") from None
    for label in ascii_labels:
        if len(label) > MAX_LABEL:
            raise ValueError(f"label {label[:20]!r}... is longer than {MAX_LABEL} characters")
        if not LDH_LABEL.match(label):
            raise ValueError(f"label {label!r} may hold only letters, digits and inner hyphens")
    result = ".".join(ascii_labels)
    if len(result) > MAX_NAME:
        raise ValueError(f"the name is longer than {MAX_NAME} characters")
    if len(ascii_labels) < 2:
        raise ValueError(f"{raw!r} has a single label; mail domains have at least two")
    if ascii_labels[-1].isdigit():
        raise ValueError(f"{raw!r} ends in a numeric label")
    return result


def _to_ascii(label: str) -> str:
    if label.isascii():
        return label.lower()
    return idna.encode(label, uts46=True).decode("ascii").lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
