"""`manage.py export_status [--format csv|json]`: every organization and domain with its status."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandParser

from monitoring.selectors import status_export_rows
from partners.csvio import SpreadsheetWriter

FIELDS = ["organization", "domain", "level", "warnings", "checked_at", "since"]


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class Command(BaseCommand):
    help = "Print every organization and domain with level, warnings, checked_at and since."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args: object, **options: object) -> None:
        rows = status_export_rows()
        if options["format"] == "json":
            for row in rows:
                record = {
                    "organization": row.organization,
                    "domain": row.domain,
                    "level": row.level or None,
                    "warnings": row.warnings,
                    "checked_at": _iso(_utc(row.checked_at)),
                    "since": _iso(_utc(row.since)),
                }
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            return
        writer = SpreadsheetWriter(self.stdout)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow(
                [
                    row.organization,
                    row.domain or "",
                    row.level,
                    ";".join(row.warnings),
                    _iso(_utc(row.checked_at)) or "",
                    _iso(_utc(row.since)) or "",
                ]
            )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None
