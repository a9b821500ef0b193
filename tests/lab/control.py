"""Client for the lab's control channel: one command per line, one JSON reply per line."""

from __future__ import annotations

import json
import socket
from typing import Any


class LabControlError(RuntimeError):
    pass


class LabControl:
    """``LabControl("127.0.0.1:PORT").set_cert("verified-mx1", "expired")``."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.timeout = timeout

    def command(self, line: str) -> dict[str, Any]:
        with socket.create_connection(self.address, timeout=self.timeout) as sock:
            sock.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        if not reply.get("ok"):
            raise LabControlError(reply.get("error", "command failed"))
        return reply

    def ping(self) -> dict[str, Any]:
        return self.command("ping")

    def stats(self, server: str | None = None) -> dict[str, Any]:
        """``{"servers": {name: {...}}, "addresses": {...}, "totals": {...}, "dns": {...}}``."""
        return self.command(f"stats {server}" if server else "stats")["stats"]

    def reset_stats(self) -> None:
        self.command("reset-stats")

    def set_cert(self, server: str, profile: str, name: str | None = None) -> dict[str, Any]:
        return self.command(f"set-cert {server} {profile}" + (f" {name}" if name else ""))

    def set_behavior(self, server: str, behavior: str) -> None:
        self.command(f"set-behavior {server} {behavior}")

    def shutdown(self) -> None:
        self.command("shutdown")
