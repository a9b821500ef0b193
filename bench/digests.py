"""Build (not send) the digests of 20,000 contacts over a 10,000-organization industry.

Run: .venv/bin/python bench/digests.py [--organizations 10000]

Starts a throwaway PostgreSQL (the test runner's helper), seeds the synthetic industry
(secmail.demo.industry: ~2 contacts per organization, 90 days of history, expiring
certificates), then times digests_build + digest_render over every contact, in both languages
as the contacts ask. Prints wall time, SQL statements in total and per contact.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import django_for_bench, postgres_server  # noqa: E402


def run(organizations: int) -> dict[str, float]:

    with postgres_server() as database:
        django_for_bench(database)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from monitoring.notifications import digests
        from partners.models import Contact
        from secmail.demo.industry import industry_seed

        seeded = industry_seed(organizations=organizations)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            contacts = list(Contact.objects.select_related("organization").order_by("pk"))
            sizes = news = 0
            for _contact, digest in digests.digests_build(contacts=contacts):
                rendered = digests.digest_render(digest)
                sizes += len(rendered.text) + len(rendered.html)
                news += digest.has_news
        wall = time.perf_counter() - started
        return {
            "organizations": seeded.organizations,
            "domains": seeded.domains,
            "contacts": len(contacts),
            "with_news": news,
            "wall": wall,
            "queries": len(queries),
            "bytes": sizes,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organizations", type=int, default=10_000)
    args = parser.parse_args()
    figures = run(args.organizations)
    contacts = figures["contacts"]
    print(
        f"industry: {figures['organizations']} organizations, {figures['domains']} domains, "
        f"{contacts} contacts"
    )
    print(
        f"built and rendered {contacts} digests ({figures['with_news']} with news, "
        f"{figures['bytes'] / contacts / 1024:.1f} KiB each) in {figures['wall']:.1f} s "
        f"({contacts / figures['wall']:.0f}/s)"
    )
    print(
        f"queries: {figures['queries']} in total, {figures['queries'] / contacts:.3f} per contact "
        f"({digests_chunk()} contacts per round)"
    )
    target = 60
    verdict = "within" if figures["wall"] < target else "OVER"
    print(f"target: < {target} s -> {verdict}")


def digests_chunk() -> int:
    from monitoring.notifications.digests import CHUNK

    return CHUNK


if __name__ == "__main__":
    main()
