"""A full probe cycle over 5,000 lab domains, end to end: enqueue, probe, store.

Run: .venv/bin/python bench/cycle.py [--domains 5000] [--world distinct|shared] [--workers 2]

Starts a throwaway PostgreSQL and Redis (the test runner's helpers), a lab world of verified
domains, and a real `celery worker` (prefork, consuming the probe and default queues); then
times `cycle_start()` until the cycle is finished. Prints wall time, domains/s and SQL
statements per domain (enqueue side plus every statement the worker ran).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab import bulk_world, start_lab  # noqa: E402
from tests.monitoring.worker import Worker, lab_env  # noqa: E402
from tests.services import django_for_bench, postgres_server, redis_server  # noqa: E402

COUNTER = "bench:queries"


def build_industry(n_domains: int) -> None:
    """Two domains per organization, named as the bulk world names them."""
    from partners.models import MailDomain, Organization

    organizations = Organization.objects.bulk_create(
        [
            Organization(name=f"Bench {i:05d}", slug=f"bench-{i:05d}", kind="brokerage")
            for i in range((n_domains + 1) // 2)
        ],
        batch_size=2000,
    )
    MailDomain.objects.bulk_create(
        [
            MailDomain(organization=organizations[i // 2], name=f"d{i}.bulk.lab.test")
            for i in range(n_domains)
        ],
        batch_size=2000,
    )


def run(
    n_domains: int, distinct: bool, workers: int, batch: int, cycles: int, state: Path
) -> list[dict]:
    import redis

    world = bulk_world(n_domains, distinct_mx_hosts=distinct)
    with (
        postgres_server() as database,
        redis_server() as broker_url,
        start_lab(world, state / "lab") as lab,
    ):
        # The enqueuing side looks up new domains' MX hosts too: through the lab's DNS.
        django_for_bench(database, REDIS_URL=broker_url, **lab_env(lab))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from monitoring.cycles import cycle_start
        from monitoring.models import Certificate, HostObservation, ProbeCycle, StatusChange

        build_industry(n_domains)
        env = lab_env(lab, DATABASE_URL=database, REDIS_URL=broker_url)
        env["SECMAIL_PROBE_TIMEOUT"] = "30"
        env["SECMAIL_CONNECT_TIMEOUT"] = "10"
        env["LOG_LEVEL"] = "WARNING"
        worker = Worker(
            env, state / "worker.log", concurrency=workers, app="bench.query_counting"
        ).start()
        counter = redis.Redis.from_url(broker_url)
        results = []
        try:
            for _ in range(cycles):
                counter.delete(COUNTER)
                changes_before = StatusChange.objects.count()
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as enqueue_queries:
                    cycle = cycle_start(size=batch)
                enqueued = time.perf_counter() - started
                while (
                    ProbeCycle.objects.values_list("finished", flat=True).get(pk=cycle.pk) is None
                ):
                    if worker.process is not None and worker.process.poll() is not None:
                        raise SystemExit(f"worker died:\n{worker.tail()}")
                    time.sleep(0.1)
                wall = time.perf_counter() - started
                time.sleep(0.5)  # the last task_postrun flush of the counter
                cycle.refresh_from_db()
                results.append(
                    {
                        "domains": cycle.total,
                        "done": cycle.done,
                        "counts": cycle.counts,
                        "wall": wall,
                        "enqueue": enqueued,
                        "rate": cycle.total / wall,
                        "queries": len(enqueue_queries) + int(counter.get(COUNTER) or 0),
                        "enqueue_queries": len(enqueue_queries),
                        "observations": HostObservation.objects.filter(cycle=cycle).count(),
                        "certificates": Certificate.objects.count(),
                        "changes": StatusChange.objects.count() - changes_before,
                    }
                )
        finally:
            worker.stop()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=5000)
    parser.add_argument("--world", choices=["distinct", "shared"], default="distinct")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--cycles", type=int, default=2, help="the first finds every domain new, later ones not"
    )
    args = parser.parse_args()
    distinct = args.world == "distinct"
    with tempfile.TemporaryDirectory(prefix="secmail-bench-") as state:
        results = run(
            args.domains, distinct, args.workers, args.batch_size, args.cycles, Path(state)
        )
    hosts = "its own MX host name" if distinct else "one of 100 shared MX hosts"
    print(f"world: {args.domains} verified lab domains, each with {hosts}, 2 per organization")
    print(
        f"worker: {args.workers} prefork processes on {os.cpu_count()} cores "
        f"(lab, PostgreSQL and Redis on the same cores), batches of {args.batch_size}"
    )
    slowest = 0.0
    for number, figures in enumerate(results, 1):
        per_domain = figures["queries"] / figures["domains"]
        print(f"cycle {number}: {figures['done']}/{figures['domains']} domains {figures['counts']}")
        print(
            f"  wall {figures['wall']:.1f} s (enqueue {figures['enqueue']:.2f} s), "
            f"{figures['rate']:.1f} domains/s"
        )
        print(
            f"  SQL statements {figures['queries']} ({per_domain:.3f} per domain, "
            f"enqueue {figures['enqueue_queries']}); stored {figures['observations']} "
            f"observations, {figures['changes']} status changes, "
            f"{figures['certificates']} certificates in all"
        )
        slowest = min(slowest or figures["rate"], figures["rate"])
    if slowest < 30:
        sys.exit(f"below the 30 domains/s target: {slowest:.1f}")


if __name__ == "__main__":
    main()
