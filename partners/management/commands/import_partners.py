"""`manage.py import_partners FILE.csv [--dry-run]`: bulk upsert of the partner registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.csvio import COLUMNS, import_partners


class Command(BaseCommand):
    help = f"Import organizations from a CSV file with columns {','.join(COLUMNS)}."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE.csv")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open("rb") as fileobj:
                report = import_partners(fileobj, dry_run=options["dry_run"])
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"{path}:{error.line}: {error.message}")
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
