"""Probe throughput on lab worlds of 1,000 domains, against a bare STARTTLS floor.

Run: .venv/bin/python bench/probe_throughput.py [--domains 1000] [--repeat 1]

World (a): every domain has its own MX host name; the names are spread over a handful of
addresses, as at hosted providers. World (b): the domains share 100 MX hosts.
The floor connects, reads the greeting, sends EHLO and STARTTLS, completes the handshake
without verification and QUITs, once per (MX host, address), with the same politeness
(one connection at a time per address). Figures: domains/s, p50/p95 per-domain time,
peak RSS, TLS handshakes, and the probe/floor ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dns.resolver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.probe import ProbeConfig  # noqa: E402
from monitoring.probe.engine import Batch  # noqa: E402
from tests.lab import bulk_world, start_lab  # noqa: E402
from tests.lab.control import LabControl  # noqa: E402


def lab_config(lab) -> ProbeConfig:
    ip, port = lab.resolver.rsplit(":", 1)
    return ProbeConfig(
        resolvers=((ip, int(port)),),
        ca_bundle=lab.ca_bundle,
        smtp_port=lab.smtp_port,
        https_port=lab.https_port,
        ehlo_name="bench.secmail.test",
        connect_timeout=5,
        probe_timeout=30,
        max_connections=64,
    )


async def timed_probe(domains: list[str], config: ProbeConfig) -> tuple[float, list[float], int]:
    batch = Batch(config)
    started = time.perf_counter()
    per_domain: list[float] = []

    async def one(name: str) -> None:
        t0 = time.perf_counter()
        facts = await batch.gather_facts(name)
        per_domain.append(time.perf_counter() - t0)
        return facts

    facts = await asyncio.gather(*(one(name) for name in domains))
    batch.remember_intermediates()
    now = config.clock()
    results = [batch.conclude(f, now) for f in facts]
    wall = time.perf_counter() - started
    levels = {str(r.level) for r in results}
    if levels != {"verified"}:
        raise SystemExit(f"bench world did not grade verified everywhere: {levels}")
    return wall, per_domain, batch.handshakes


def resolve_pairs(domains: list[str], config: ProbeConfig) -> list[tuple[str, str]]:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [config.resolvers[0][0]]
    resolver.port = config.resolvers[0][1]
    pairs: dict[tuple[str, str], None] = {}
    for domain in domains:
        for mx in resolver.resolve(domain, "MX"):
            host = mx.exchange.to_text(omit_final_dot=True)
            for rr in resolver.resolve(host, "A"):
                pairs[(host, rr.address)] = None
    return list(pairs)


async def floor(pairs: list[tuple[str, str]], config: ProbeConfig) -> tuple[float, int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    gates: dict[str, asyncio.Semaphore] = {}
    overall = asyncio.Semaphore(config.max_connections)
    handshakes = 0

    async def one(host: str, ip: str) -> None:
        nonlocal handshakes
        async with gates.setdefault(ip, asyncio.Semaphore(1)), overall:
            reader, writer = await asyncio.open_connection(ip, config.smtp_port)
            await reader.readuntil(b"\r\n")
            writer.write(b"EHLO floor.test\r\n")
            while (await reader.readline())[3:4] == b"-":
                pass
            writer.write(b"STARTTLS\r\n")
            await reader.readline()
            await writer.start_tls(context, server_hostname=host)
            handshakes += 1
            writer.write(b"QUIT\r\n")
            await reader.readline()
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(h, ip) for h, ip in pairs))
    return time.perf_counter() - started, handshakes


def run_world(name: str, distinct: bool, n: int, state: Path) -> dict[str, float]:
    world = bulk_world(n, distinct_mx_hosts=distinct)
    with start_lab(world, state / name) as lab:
        config = lab_config(lab)
        domains = [entry["domain"] for entry in lab.domains.values()]
        pairs = resolve_pairs(domains, config)
        control = LabControl(lab.control)
        control.reset_stats()
        floor_wall, floor_handshakes = asyncio.run(floor(pairs, config))
        control.reset_stats()
        probe_wall, per_domain, handshakes = asyncio.run(timed_probe(domains, config))
        stats = control.stats()
    per_domain.sort()
    mail_commands = sum(s.get("mail_commands", 0) for s in stats.get("servers", {}).values())
    return {
        "domains": len(domains),
        "pairs": len(pairs),
        "probe_rate": len(domains) / probe_wall,
        "floor_rate": len(domains) / floor_wall,
        "p50_ms": 1000 * statistics.median(per_domain),
        "p95_ms": 1000 * per_domain[int(0.95 * (len(per_domain) - 1))],
        "handshakes": handshakes,
        "floor_handshakes": floor_handshakes,
        "mail_commands": mail_commands,
    }


WORLDS = {"a": ("a-distinct-mx-hosts", True), "b": ("b-100-shared-mx-hosts", False)}


def report(key: str, n: int) -> None:
    name, distinct = WORLDS[key]
    with tempfile.TemporaryDirectory(prefix="secmail-bench-") as tmp:
        f = run_world(name, distinct, n, Path(tmp))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"world {name}: {f['domains']} domains, {f['pairs']} (MX host, address) pairs\n"
        f"  probe: {f['probe_rate']:.0f} domains/s, per-domain p50 {f['p50_ms']:.0f} ms "
        f"p95 {f['p95_ms']:.0f} ms, TLS handshakes {f['handshakes']}, "
        f"peak RSS {peak_mib:.0f} MiB (probe and floor process)\n"
        f"  floor: {f['floor_rate']:.0f} domains/s, TLS handshakes {f['floor_handshakes']}\n"
        f"  probe/floor rate: {f['probe_rate'] / f['floor_rate']:.2f}; handshakes == pairs: "
        f"{f['handshakes'] == f['pairs']}; MAIL/RCPT/DATA sent: {f['mail_commands']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--world", choices=sorted(WORLDS), help="run one world only")
    args = parser.parse_args()
    if args.world:
        report(args.world, args.domains)
        return
    # One process per world, so each peak RSS is that world's own.
    for key in sorted(WORLDS):
        subprocess.run(
            [sys.executable, __file__, "--world", key, "--domains", str(args.domains)],
            check=True,
        )


if __name__ == "__main__":
    main()
