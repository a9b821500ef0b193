"""`export_outbound`: how each organization sends, as observed by the receiver."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitoring.evidence.selectors import outbound_export_rows
from partners.csvio import SpreadsheetWriter

CSV_COLUMNS = [
    "organization",
    "slug",
    "outbound",
    "ip",
    "helo",
    "tls_version",
    "cipher",
    "seen_at",
    "authenticated",
    "reason",
]


class Command(BaseCommand):
    help = (
        "One JSON object per organization per line (--format json), or CSV with one row per "
        "gateway (an organization without gateways gets one row with empty gateway columns)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = outbound_export_rows()
        if options["format"] == "json":
            for row in rows:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            return
        writer = SpreadsheetWriter(self.stdout)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            head = [row["organization"], row["slug"], row["outbound"]]
            gateways = row["gateways"] or [{}]
            for gateway in gateways:
                writer.writerow(head + [_cell(gateway.get(c)) for c in CSV_COLUMNS[3:]])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
