"""`manage.py export_partners [--output FILE]`: the registry as CSV, in the import format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.csvio import export_partners


class Command(BaseCommand):
    help = "Write every organization as CSV (the format import_partners reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        if output is None:
            # Write through the command's stdout so call_command(stdout=...) captures it.
            count = export_partners(self.stdout)
        else:
            try:
                with output.open("w", encoding="utf-8", newline="") as fileobj:
                    count = export_partners(fileobj)
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        self.stderr.write(f"exported {count} organizations", style_func=lambda text: text)
