"""Debian's NSD, a real compiled authoritative DNS server, serving a lab world's zone.

The lab's own DNS server is Python and costs about 0.25 ms of CPU per answer on the cores the
probe runs on; where it would be the bottleneck, benchmarks use this instead. The zone is the one
the lab would serve for the same world (its SOA, NS and records), written as a zone file.
Everything lives under one throwaway directory; NSD listens on one loopback address and port
only, runs in the foreground as our child, and is stopped, and waited for, when the block ends
(also on an error or Ctrl-C).

NSD answers authoritatively without RA, and REFUSED outside its zone; the probe needs neither
RA nor names outside the lab zone, so its answers read as a resolver's would.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode

from bench import support
from tests.lab.world import WorldSpec
from tests.services import stop_process

NSD = "/usr/sbin/nsd"
CHECKZONE = "/usr/sbin/nsd-checkzone"


def available() -> str | None:
    """None when NSD can be run here, else why not."""
    if not Path(NSD).exists() or not Path(CHECKZONE).exists():
        return "needs Debian's nsd package (apt-get install nsd)"
    return None


def version() -> str:
    done = subprocess.run([NSD, "-v"], capture_output=True, text=True)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "NSD"


def zone_text(world: WorldSpec) -> str:
    """The world's zone as a zone file: what the lab's DNS server would answer for it.

    Faults, simulated DNSSEC and TLSA records computed from the lab's own certificates need the
    lab's servers, so a world with any of them is refused rather than served differently.
    """
    if world.faults or world.signed or world.tlsa:
        raise ValueError(f"world {world.name}: faults, signed names and TLSA need the lab's DNS")
    origin = dns.name.from_text(world.zone)
    apex = origin.to_text()
    # The same apex records as tests/lab/dns_server.py's Zone.
    lines = [
        f"$ORIGIN {apex}",
        f"{apex} 60 IN SOA ns.{apex} hostmaster.{apex} 1 3600 600 86400 60",
        f"{apex} 3600 IN NS ns.{apex}",
        f"ns.{apex} 3600 IN A 127.0.0.1",
    ]
    for record in world.records:
        name = dns.name.from_text(record.name)
        if not name.is_subdomain(origin):
            raise ValueError(f"{record.name} is outside {apex}")
        lines.append(f"{name.to_text()} {record.ttl} IN {record.rdtype} {record.value}")
    return "\n".join(lines) + "\n"


CONFIG = """\
server:
    ip-address: {address}@{port}
    port: {port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{root}"
    database: ""
    zonelistfile: "{root}/zone.list"
    xfrdfile: "{root}/xfrd.state"
    xfrdir: "{root}"
    pidfile: "{root}/nsd.pid"
    logfile: "{root}/nsd.log"
    cookie-secret-file: "{root}/cookiesecrets.txt"
    verbosity: 0
    hide-version: yes
    # Every query comes from one loopback source at benchmark rates: no response rate limit.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    tcp-count: 256

remote-control:
    control-enable: no

zone:
    name: "{zone}"
    zonefile: "{root}/zone"
"""


def free_port(address: str) -> int:
    """A port free for both UDP and TCP on `address`."""
    return support.free_port(
        [address], (socket.SOCK_DGRAM, socket.SOCK_STREAM), first=25353, step=11
    )


@dataclass(frozen=True)
class NsdServer:
    address: str
    port: int
    version: str
    pid: int

    @property
    def resolver(self) -> str:
        return f"{self.address}:{self.port}"


@contextlib.contextmanager
def nsd_server(root: Path, world: WorldSpec, address: str) -> Iterator[NsdServer]:
    """Serve the world's zone from `address` (loopback only) until the block ends."""
    if not address.startswith("127."):
        raise ValueError(f"NSD is only ever run on loopback, not {address}")
    root.mkdir(parents=True, exist_ok=True)
    zone_file = root / "zone"
    zone_file.write_text(zone_text(world))
    checked = subprocess.run(
        [CHECKZONE, world.zone, str(zone_file)], capture_output=True, text=True
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nsd-checkzone refused the zone: {checked.stdout}{checked.stderr}")
    port = free_port(address)
    config = root / "nsd.conf"
    config.write_text(CONFIG.format(address=address, port=port, root=root, zone=world.zone))
    log = root / "nsd.log"
    # -d: stay in the foreground as our child, so that it is ours to stop.
    process = subprocess.Popen(
        [NSD, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        _wait_answering(process, address, port, world.zone, log)
        yield NsdServer(address, port, version(), process.pid)
    finally:
        stop_process(process)


def _wait_answering(
    process: subprocess.Popen[bytes], address: str, port: int, zone: str, log: Path
) -> None:
    deadline = time.monotonic() + 20
    query = dns.message.make_query(zone, "SOA")
    while True:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"nsd exited with {process.returncode}: {text.strip()}")
        with contextlib.suppress(OSError, dns.exception.DNSException):
            reply = dns.query.udp(query, address, port=port, timeout=0.5)
            if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nsd not answering on {address}:{port}")
        time.sleep(0.1)
