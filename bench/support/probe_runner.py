"""One measured run in a fresh process: the probe of a given source tree, or the bare floor.

`python bench/support/probe_runner.py --tree PATH --mode probe|floor --input FILE` prints
one JSON line: wall and CPU seconds, TLS handshakes, and the levels seen. The tree is put
first on sys.path, so the same runner measures today's probe and an older commit's worktree.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import ssl
import sys
import time
from collections import Counter
from pathlib import Path


async def floor_dialogues(pairs: list[tuple[str, str]], port: int, max_connections: int) -> int:
    """Connect, greeting, EHLO, STARTTLS, unverified handshake, QUIT; once per pair, with the
    probe's politeness (one connection per address, `max_connections` in all). The bare
    floor every probe benchmark compares with; returns the handshakes made."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    gates: dict[str, asyncio.Semaphore] = {}
    overall = asyncio.Semaphore(max_connections)
    handshakes = 0

    async def one(host: str, ip: str) -> None:
        nonlocal handshakes
        async with gates.setdefault(ip, asyncio.Semaphore(1)), overall:
            reader, writer = await asyncio.open_connection(ip, port)
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
            writer.transport.abort()

    await asyncio.gather(*(one(h, ip) for h, ip in pairs))
    return handshakes


def floor(pairs: list[tuple[str, str]], port: int, max_connections: int) -> dict:
    """The floor measured in this process: wall and CPU seconds, handshakes."""
    started, cpu = time.perf_counter(), time.process_time()
    handshakes = asyncio.run(floor_dialogues(pairs, port, max_connections))
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "handshakes": handshakes,
    }


def probe(domains: list[str], settings: dict) -> dict:
    from monitoring.probe import ProbeConfig
    from monitoring.probe.engine import probe_batch

    known = {f.name for f in dataclasses.fields(ProbeConfig)}
    # An older tree may lack newer options (allow_nonpublic): pass only what it knows.
    values = {k: v for k, v in settings.items() if k in known}
    values["resolvers"] = tuple(tuple(r) for r in values.get("resolvers", ()))
    config = ProbeConfig(**values)
    loop_policy = settings.get("loop")
    started, cpu = time.perf_counter(), time.process_time()
    if loop_policy == "uvloop":
        import uvloop

        results, batch = uvloop.run(probe_batch(domains, config))
    else:
        results, batch = asyncio.run(probe_batch(domains, config))
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "handshakes": batch.handshakes,
        "levels": dict(Counter(str(r.level) for r in results)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--mode", choices=("probe", "floor"), required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    job = json.loads(args.input.read_text())
    if args.mode == "floor":
        figures = floor([tuple(p) for p in job["pairs"]], job["port"], job["max_connections"])
    elif args.profile:
        import cProfile

        profiler = cProfile.Profile()
        figures = profiler.runcall(probe, job["domains"], job["settings"])
        profiler.dump_stats(str(args.profile))
    else:
        figures = probe(job["domains"], job["settings"])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
