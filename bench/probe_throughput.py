"""Probe throughput on lab worlds of 1,000 domains, against a bare STARTTLS floor.

Run: .venv/bin/python bench/probe_throughput.py [--domains 1000] [--world a|b|postfix]
     [--old-tree PATH] [--dns nsd|lab]

World (a): every domain has its own MX host name; the names are spread over a handful of
addresses, as at hosted providers. World (b): the domains share 100 MX hosts.
The floor connects, reads the greeting, sends EHLO and STARTTLS, completes the handshake
without verification and QUITs, once per (MX host, address), with the same politeness
(one connection at a time per address). Figures: domains/s, p50/p95 per-domain time,
peak RSS, TLS handshakes, and the probe/floor ratio.

Postfix worlds (run as root with Debian's postfix installed; skipped otherwise): real `smtpd`
listeners on 8 loopback addresses with a throwaway test CA, and a DNS server pointing 1,000
hosted domains (distinct MX names over the 8 addresses) and 1,000 domains sharing 100 MX hosts
at them. The DNS server is Debian's NSD where installed (`--dns nsd`, the default), serving the
zone the lab would serve, so that the lab's Python DNS server (`--dns lab`, and the labelled
fallback without NSD) does not bound the probe's rate; the output says which was used. Side by
side in one run, each in a fresh process: the bare floor, the probe of this tree, and (with
--old-tree, e.g. a `git worktree add /tmp/probe-old cf624e5`) an older commit's probe, each
with the DNS server's CPU during it. Only loopback is touched; Postfix and the DNS server are
stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dns.resolver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import nsd, postfix  # noqa: E402
from bench.support.probe_runner import floor_dialogues  # noqa: E402
from monitoring.probe import ProbeConfig  # noqa: E402
from monitoring.probe.engine import Batch  # noqa: E402
from tests.lab import bulk_world, start_lab  # noqa: E402
from tests.lab.control import LabControl  # noqa: E402
from tests.lab.world import ZONE, WorldBuilder, WorldSpec  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "bench" / "support" / "probe_runner.py"
POSTFIX_ADDRESSES = [f"127.20.0.{i}" for i in range(1, 9)]
NSD_ADDRESS = "127.20.0.53"
SHARED_HOSTS = 100


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
        # The lab lives on loopback, which the probe otherwise never connects to.
        allow_nonpublic=True,
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
    started = time.perf_counter()
    handshakes = await floor_dialogues(pairs, config.smtp_port, config.max_connections)
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


def postfix_dns_world(n: int) -> tuple[WorldSpec, dict[str, list[str]]]:
    """DNS only (Postfix serves SMTP): the hosted and the shared world's domains."""
    b = WorldBuilder("postfix-dns")
    domains: dict[str, list[str]] = {"hosted": [], "shared": []}
    for i in range(n):
        host = f"mx{i}.hosted.{ZONE}"
        b.record(host, "A", POSTFIX_ADDRESSES[i % len(POSTFIX_ADDRESSES)])
        domain = f"h{i}.pf.{ZONE}"
        b.record(domain, "MX", f"10 {host}.")
        domains["hosted"].append(domain)
    for j in range(SHARED_HOSTS):
        b.record(f"mx{j}.shared.{ZONE}", "A", POSTFIX_ADDRESSES[j % len(POSTFIX_ADDRESSES)])
    for i in range(n):
        domain = f"s{i}.pf.{ZONE}"
        b.record(domain, "MX", f"10 mx{i % SHARED_HOSTS}.shared.{ZONE}.")
        domains["shared"].append(domain)
    return b.world, domains


def measure(tree: Path, mode: str, job: dict, work: Path, dns_pid: int | None = None) -> dict:
    job_file = work / f"job-{mode}.json"
    job_file.write_text(json.dumps(job))
    dns_cpu = tree_cpu(dns_pid) if dns_pid else 0.0
    done = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--tree",
            str(tree),
            "--mode",
            mode,
            "--input",
            str(job_file),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    if dns_pid:
        figures["dns_cpu"] = tree_cpu(dns_pid) - dns_cpu
    return figures


def choose_dns(asked: str | None) -> tuple[str, str]:
    """The DNS server for the Postfix worlds, and a line that says which and why."""
    why_not = nsd.available()
    if asked == "lab":
        return "lab", "DNS: the lab's Python DNS server (--dns lab)"
    if why_not is None:
        return "nsd", f"DNS: {nsd.version()}, authoritative for the lab zone (compiled)"
    return "lab", (
        f"DNS: the lab's Python DNS server, as a FALLBACK: NSD {why_not}; the lab's DNS "
        "shares the cores with the probe and bounds its rate"
    )


@dataclasses.dataclass(frozen=True)
class DnsUnderTest:
    address: str
    port: int
    label: str
    pid: int  # the server's process; its CPU (children included) is the DNS side's cost


@contextlib.contextmanager
def postfix_dns(kind: str, world: WorldSpec, work: Path) -> Iterator[DnsUnderTest]:
    """The chosen DNS server serving the world, until the block ends."""
    if kind == "nsd":
        with nsd.nsd_server(work / "nsd", world, NSD_ADDRESS) as server:
            label = f"{server.version} on {server.resolver}"
            yield DnsUnderTest(server.address, server.port, label, server.pid)
    else:
        # The world has no SMTP or HTTPS servers: the lab process serves only DNS.
        with start_lab(world, work / "lab") as lab:
            ip, port = lab.resolver.rsplit(":", 1)
            yield DnsUnderTest(ip, int(port), f"lab DNS on {lab.resolver}", lab.pid)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) of a process and its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending.extend(int(child) for child in children)
    return total


def cli_level(domain: str, resolver: str, port: int, ca_bundle: Path) -> str:
    """The level `python -m monitoring.probe DOMAIN --json` gives with this DNS server."""
    env = {
        **os.environ,
        "PYTHONPATH": "",
        "SECMAIL_DNS_RESOLVERS": resolver,
        "SECMAIL_CA_BUNDLE": str(ca_bundle),
        "SECMAIL_SMTP_PORT": str(port),
        "SECMAIL_EHLO_NAME": "bench.secmail.test",
        "SECMAIL_ALLOW_NONPUBLIC": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "monitoring.probe", domain, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return str(json.loads(done.stdout.splitlines()[-1])["level"])


def report_postfix(n: int, old_tree: Path | None, loop: str, dns_kind: str | None) -> None:
    why_not = postfix.available()
    if why_not:
        print(f"Postfix worlds skipped: {why_not}", flush=True)
        return
    world, domains = postfix_dns_world(n)
    kind, label = choose_dns(dns_kind)
    print(label, flush=True)
    with tempfile.TemporaryDirectory(prefix="secmail-bench-postfix-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # Postfix's unprivileged daemons must reach their sockets below it
        pki = postfix.make_pki(work / "tls", [f"*.hosted.{ZONE}", f"*.shared.{ZONE}"])
        port = postfix.free_port(POSTFIX_ADDRESSES)
        with (
            postfix.postfix_listeners(work / "postfix", POSTFIX_ADDRESSES, port, pki),
            postfix_dns(kind, world, work) as dns_server,
        ):
            ip, dns_port = dns_server.address, dns_server.port
            first = domains["hosted"][0]
            level = cli_level(first, f"{ip}:{dns_port}", port, pki.ca_bundle)
            print(f"  {dns_server.label}; probe CLI: {first} {level}", flush=True)
            if level != "verified":
                raise SystemExit(f"the probe CLI graded {first} {level} via {dns_server.label}")
            settings = {
                "resolvers": [[ip, dns_port]],
                "ca_bundle": str(pki.ca_bundle),
                "smtp_port": port,
                "ehlo_name": "bench.secmail.test",
                "connect_timeout": 5,
                "probe_timeout": 30,
                "max_connections": 64,
                "allow_nonpublic": True,
                "loop": loop,
            }
            config = ProbeConfig(
                resolvers=((ip, dns_port),), smtp_port=port, ehlo_name="bench.test"
            )
            for name in ("hosted", "shared"):
                names = domains[name]
                pairs = resolve_pairs(names, config)
                floor_job = {"pairs": pairs, "port": port, "max_connections": 64}
                probe_job = {"domains": names, "settings": settings}
                figures = {"floor": measure(REPO, "floor", floor_job, work)}
                figures["head"] = measure(REPO, "probe", probe_job, work, dns_server.pid)
                if old_tree is not None:
                    figures["old"] = measure(old_tree, "probe", probe_job, work, dns_server.pid)
                print_postfix(name, len(names), len(pairs), figures)


def print_postfix(name: str, n: int, pairs: int, figures: dict[str, dict]) -> None:
    rate = {key: n / f["wall"] for key, f in figures.items()}
    lines = [f"postfix world {name}: {n} domains, {pairs} (MX host, address) pairs"]
    for key, label in (("floor", "bare floor"), ("head", "probe (this tree)"), ("old", "old")):
        if key not in figures:
            continue
        f = figures[key]
        levels = f" levels {f['levels']}" if "levels" in f else ""
        dns = f" (DNS server {1000 * f['dns_cpu'] / n:.2f})" if "dns_cpu" in f else ""
        lines.append(
            f"  {label:>17}: {rate[key]:6.0f} domains/s, wall {f['wall']:.2f} s, "
            f"CPU {1000 * f['cpu'] / n:.2f}{dns} ms/domain, handshakes {f['handshakes']}{levels}"
        )
    lines.append(f"  probe / floor: {rate['head'] / rate['floor']:.2f}")
    if "old" in rate:
        lines.append(f"  probe / old probe: {rate['head'] / rate['old']:.2f}")
    print("\n".join(lines), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument(
        "--world", choices=[*sorted(WORLDS), "postfix"], help="run one world (or Postfix) only"
    )
    parser.add_argument(
        "--old-tree", type=Path, help="a worktree of an older commit, measured beside this one"
    )
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument(
        "--dns",
        choices=("nsd", "lab"),
        help="DNS of the Postfix worlds: Debian's NSD (the default where installed) or the lab's",
    )
    args = parser.parse_args()
    if args.world == "postfix":
        report_postfix(args.domains, args.old_tree, args.loop, args.dns)
        return
    if args.world:
        report(args.world, args.domains)
        return
    # One process per world, so each peak RSS is that world's own.
    for key in sorted(WORLDS):
        subprocess.run(
            [sys.executable, __file__, "--world", key, "--domains", str(args.domains)],
            check=True,
        )
    report_postfix(args.domains, args.old_tree, args.loop, args.dns)


if __name__ == "__main__":
    main()
