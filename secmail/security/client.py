"""The client's address: the socket peer, or what a declared proxy says it forwarded for."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(declared: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in declared)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the socket peer is a proxy the operator declared."""
    networks = _networks(tuple(settings.SECMAIL_TRUSTED_PROXIES))
    return bool(networks) and _trusted(request.META.get("REMOTE_ADDR", "") or "", networks)


def client_address(request: HttpRequest) -> str:
    """The address of whoever sent the request.

    `X-Forwarded-For` is read only when the peer is a proxy the operator declared in
    SECMAIL_TRUSTED_PROXIES, and then from the right: each declared proxy appends the address it
    received from, so the first entry from the right that is not a declared proxy is the client.
    Anything further left was written by the client and proves nothing.
    """
    peer = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.SECMAIL_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([item.strip() for item in forwarded.split(",") if item.strip()]):
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            return peer  # a garbled chain: fall back to what the socket says
        if not _trusted(entry, networks):
            return entry
    return peer
