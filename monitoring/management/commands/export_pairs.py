"""`manage.py export_pairs [--format json|csv]`: every partnership in both directions."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser

from monitoring.selectors import pair_rows
from partners.csvio import SpreadsheetWriter

FIELDS = ["a", "b", "level", "a_to_b", "b_to_a", "assumed"]


class Command(BaseCommand):
    help = (
        "Print every partnership: the pair's level, each direction's level (the receiver's "
        "inbound capped by the sender's observed outbound) and whether an outbound is assumed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: object, **options: object) -> None:
        if options["format"] == "json":
            for row in pair_rows():
                self.stdout.write(json.dumps(row.as_json(), ensure_ascii=False))
            return
        writer = SpreadsheetWriter(self.stdout)
        writer.writerow(FIELDS)
        for row in pair_rows():
            record = row.as_json()
            writer.writerow(
                [
                    record["a"],
                    record["b"],
                    record["level"] or "",
                    record["a_to_b"] or "",
                    record["b_to_a"] or "",
                    "yes" if record["assumed"] else "no",
                ]
            )
