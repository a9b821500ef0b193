"""Helpers of the benchmarks (not benchmarks themselves: `make bench` runs bench/*.py only)."""

from __future__ import annotations

import contextlib
import socket


def free_port(addresses: list[str], kinds: tuple[int, ...], first: int, step: int) -> int:
    """A port free on every address for every socket kind (SOCK_STREAM, SOCK_DGRAM), found by
    scanning from `first` in `step`s below the ephemeral range, like the lab's ports."""
    for port in range(first, 32000, step):
        with contextlib.ExitStack() as sockets:
            try:
                for address in addresses:
                    for kind in kinds:
                        sockets.enter_context(socket.socket(socket.AF_INET, kind)).bind(
                            (address, port)
                        )
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port on {', '.join(addresses)}")
