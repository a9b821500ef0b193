"""The lab process: binds a world's servers, writes the ready file, obeys the control channel."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import random
import shlex
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .certs import Pki
from .dns_server import DnsServer, Zone, serve_udp, tcp_handler
from .https_server import HttpsServer
from .smtp_server import SmtpServer
from .stats import DnsStats, ServerStats
from .tls import TlsEndpoint
from .world import CERT_PROFILES, REFUSED_ADDRESS, SMTP_BEHAVIORS, RecordSpec, WorldSpec

# Ports below Linux's ephemeral range (32768+) so outgoing connections never collide with them.
PORT_RANGE = (20000, 32000)
BACKLOG = 1024


def _listener(family: int, kind: int, address: str, port: int) -> socket.socket:
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_shared_port(
    endpoints: list[tuple[int, str]], kind: int = socket.SOCK_STREAM
) -> tuple[int, list[socket.socket]]:
    """Bind every (family, address) on one port free on all of them; retry on collisions."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(*PORT_RANGE)
        socks: list[socket.socket] = []
        try:
            for family, address in endpoints:
                socks.append(_listener(family, kind, address, port))
        except OSError as exc:
            for sock in socks:
                sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        return port, socks
    raise RuntimeError("no free port shared by every lab address")


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class Lab:
    def __init__(self, world: WorldSpec, state_dir: Path) -> None:
        world.validate()
        self.world = world
        self.state_dir = state_dir
        self.stop_event = asyncio.Event()
        self.dns_stats = DnsStats()
        self.smtp: dict[str, SmtpServer] = {}
        self.https: dict[str, HttpsServer] = {}
        self.stats: dict[str, ServerStats] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: list[asyncio.BaseTransport] = []
        self.ready: dict[str, Any] = {}

    async def start(self) -> dict[str, Any]:
        world = self.world
        cert_dir = self.state_dir / "certs"
        cert_dir.mkdir(parents=True, exist_ok=True)
        for old in cert_dir.glob("*"):
            old.unlink()
        pki = Pki()
        ca_bundle = self.state_dir / "ca-bundle.pem"
        ca_bundle.write_bytes(pki.ca_bundle_pem())

        smtp_port, smtp_socks = bind_shared_port(
            [(_family(s.address), s.address) for s in world.smtp]
        )
        secure = [h for h in world.https if h.tls]
        plain = [h for h in world.https if not h.tls]
        https_port, https_socks = bind_shared_port(
            [(_family(h.address), h.address) for h in secure]
        )
        http_port, http_socks = bind_shared_port([(_family(h.address), h.address) for h in plain])
        pki.placeholders["http_port"] = str(http_port)
        for spec in world.smtp:
            tls = TlsEndpoint(spec.name, pki, spec.certs, world.zone, cert_dir)
            tls.rebuild(
                legacy=spec.behavior == "legacy-only",
                anonymous=spec.behavior == "anonymous-only",
            )
            self.stats[spec.name] = ServerStats(spec.address)
            self.smtp[spec.name] = SmtpServer(spec, tls, self.stats[spec.name])
        for hspec in secure + plain:
            tls = TlsEndpoint(hspec.name, pki, [s.cert for s in hspec.sites], world.zone, cert_dir)
            tls.rebuild()
            self.stats[hspec.name] = ServerStats(hspec.address)
            self.https[hspec.name] = HttpsServer(hspec, tls, self.stats[hspec.name], https_port)

        zone = Zone(world.zone, world.records, world.signed)
        for tlsa in world.tlsa:
            issued = self.smtp[tlsa.server].tls.issued[0]
            digest = issued.spki_sha256() if tlsa.selector == 1 else issued.issuer_sha256()
            if not tlsa.match:
                digest = digest[::-1]  # same length, matches nothing
            value = f"{tlsa.usage} {tlsa.selector} {tlsa.mtype} {digest}"
            # Port 25 per RFC 7672, and the lab's own port for probes that use the configured one.
            for port in sorted({25, smtp_port}):
                zone.add(RecordSpec(name=f"_{port}._tcp.{tlsa.host}", rdtype="TLSA", value=value))
        self.dns = DnsServer(zone, world.faults, self.dns_stats)
        dns_port, (dns_udp,) = bind_shared_port([(socket.AF_INET, "127.0.0.1")], socket.SOCK_DGRAM)
        dns_tcp = None
        # UDP and TCP need the same port; on the rare clash, pick another.
        for _ in range(50):
            try:
                dns_tcp = _listener(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", dns_port)
                break
            except OSError:
                dns_udp.close()
                dns_port, (dns_udp,) = bind_shared_port(
                    [(socket.AF_INET, "127.0.0.1")], socket.SOCK_DGRAM
                )
        assert dns_tcp is not None

        self._transports.append(await serve_udp(self.dns, dns_udp))
        await self._serve(tcp_handler(self.dns), dns_tcp)
        for sock, server in zip(smtp_socks, self.smtp.values(), strict=True):
            await self._serve(server.handle, sock)
        for sock, hserver in zip(https_socks + http_socks, self.https.values(), strict=True):
            await self._serve(hserver.handle, sock)
        control_sock = _listener(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", 0)
        await self._serve(self._control, control_sock)

        self.ready = {
            "world": world.name,
            "resolver": f"127.0.0.1:{dns_port}",
            "ca_bundle": str(ca_bundle),
            "smtp_port": smtp_port,
            "https_port": https_port,
            "http_port": http_port,
            "control": f"127.0.0.1:{control_sock.getsockname()[1]}",
            "pid": os.getpid(),
            "zone": world.zone,
            "refused_address": REFUSED_ADDRESS,
            "domains": {
                sc.name: {"domain": sc.domain, "expect": sc.expect.to_json(), "servers": sc.servers}
                for sc in world.scenarios
            },
            "servers": {
                **{
                    s.name: {
                        "kind": "smtp",
                        "address": s.address,
                        "hostname": s.hostname,
                        "behavior": s.behavior,
                    }
                    for s in world.smtp
                },
                **{
                    h.name: {
                        "kind": "https" if h.tls else "http",
                        "address": h.address,
                        "hosts": [x.host for x in h.sites],
                    }
                    for h in world.https
                },
            },
        }
        return self.ready

    async def _serve(self, handler: Callable[..., Any], sock: socket.socket) -> None:
        server = await asyncio.start_server(handler, sock=sock, backlog=BACKLOG)
        self._servers.append(server)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for transport in self._transports:
            transport.close()
        # Python 3.11's wait_closed does not wait for handlers; cancel them so none outlive us.
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 3)

    # -- control channel ------------------------------------------------------------------------

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    reply = self.command(line.decode().strip())
                except Exception as exc:  # noqa: BLE001 - every failure goes back to the client
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def command(self, line: str) -> dict[str, Any]:
        """Run one control command: ``verb args...``; returns a JSON-able reply."""
        words = shlex.split(line)
        if not words:
            return {"ok": False, "error": "empty command"}
        verb, args = words[0], words[1:]
        if verb == "ping":
            return {"ok": True, "pid": os.getpid()}
        if verb == "stats":
            return {"ok": True, "stats": self.stats_json(args[0] if args else None)}
        if verb == "reset-stats":
            for stats in self.stats.values():
                stats.reset()
            self.dns_stats.reset()
            return {"ok": True}
        if verb == "set-cert" and len(args) in (2, 3):
            server, profile = args[0], args[1]
            if profile not in CERT_PROFILES:
                raise ValueError(f"unknown profile {profile!r}; one of {', '.join(CERT_PROFILES)}")
            target = self.smtp.get(server) or self.https.get(server)
            if target is None:
                raise KeyError(f"no server {server!r}")
            target.tls.set_profile(profile, args[2] if len(args) == 3 else None)
            leaf = target.tls.issued[0].leaf
            return {"ok": True, "not_after": leaf.not_valid_after_utc.isoformat()}
        if verb == "set-behavior" and len(args) == 2:
            server, behavior = args
            if behavior not in SMTP_BEHAVIORS:
                raise ValueError(
                    f"unknown behavior {behavior!r}; one of {', '.join(SMTP_BEHAVIORS)}"
                )
            if server not in self.smtp:
                raise KeyError(f"no SMTP server {server!r}")
            self.smtp[server].set_behavior(behavior)
            return {"ok": True}
        if verb == "shutdown":
            self.stop_event.set()
            return {"ok": True}
        return {"ok": False, "error": f"unknown command {line!r}"}

    def stats_json(self, server: str | None = None) -> dict[str, Any]:
        if server is not None:
            return {"servers": {server: self.stats[server].to_json()}}
        servers = {name: s.to_json() for name, s in self.stats.items()}
        by_address: dict[str, dict[str, int]] = {}
        for s in servers.values():
            entry = by_address.setdefault(s["address"], {"connections": 0, "max_concurrent": 0})
            entry["connections"] += s["connections"]
            entry["max_concurrent"] = max(entry["max_concurrent"], s["max_concurrent"])
        totals = {
            key: sum(s[key] for s in servers.values())
            for key in ("connections", "tls_handshakes", "mail_commands", "requests")
        }
        return {
            "servers": servers,
            "addresses": by_address,
            "totals": totals,
            "dns": self.dns_stats.to_json(),
        }


def write_ready(path: Path, ready: dict[str, Any]) -> None:
    """Atomically: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(ready, indent=1))
    os.replace(tmp, path)


async def serve(
    world: WorldSpec, state_dir: Path, ready_file: Path, parent_pid: int | None
) -> None:
    started = time.monotonic()
    lab = Lab(world, state_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lab.stop_event.set)
    ready = await lab.start()
    ready["startup_seconds"] = round(time.monotonic() - started, 3)
    write_ready(ready_file, ready)
    print(
        f"lab {world.name}: {len(lab.smtp)} SMTP and {len(lab.https)} HTTPS servers,"
        f" resolver {ready['resolver']}, ready in {ready['startup_seconds']} s",
        file=sys.stderr,
        flush=True,
    )
    watchdog = (
        asyncio.ensure_future(_watch_parent(parent_pid, lab.stop_event)) if parent_pid else None
    )
    try:
        await lab.stop_event.wait()
    finally:
        if watchdog:
            watchdog.cancel()
        with contextlib.suppress(FileNotFoundError):
            ready_file.unlink()
        await lab.close()


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """Stop when the process that started us is gone, so a killed test run leaves no lab behind."""
    while True:
        await asyncio.sleep(0.5)
        if os.getppid() != parent_pid:
            stop.set()
            return
