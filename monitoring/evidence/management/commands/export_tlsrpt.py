"""`export_tlsrpt`: what SMTP TLS reports say about each registry domain."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.evidence.selectors import tlsrpt_by_domain
from partners.csvio import SpreadsheetWriter


class Command(BaseCommand):
    help = (
        "One JSON object per domain with reports (--format json), or CSV with the failures as "
        "result-type=count pairs. --days N keeps reports whose period ended in the last N days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be at least 1")
        domains = tlsrpt_by_domain(days=options["days"])
        if options["format"] == "json":
            for domain in domains:
                self.stdout.write(json.dumps(domain.as_json(), ensure_ascii=False))
            return
        writer = SpreadsheetWriter(self.stdout)
        writer.writerow(["domain", "reports", "successful", "failed", "failures", "reporters"])
        for domain in domains:
            failures = ";".join(f"{k}={v}" for k, v in sorted(domain.failures.items()))
            writer.writerow(
                [
                    domain.domain,
                    domain.reports,
                    domain.successful,
                    domain.failed,
                    failures,
                    ";".join(domain.reporters),
                ]
            )
