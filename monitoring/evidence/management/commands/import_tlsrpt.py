"""`import_tlsrpt FILE...`: store SMTP TLS reports from files (JSON or gzip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.evidence.models import TlsReport
from monitoring.evidence.services import tlsrpt_ingest
from monitoring.evidence.tlsrpt import ReportRejected, iter_file, sniff_kind


class Command(BaseCommand):
    help = (
        "Validate and store RFC 8460 reports (.json or .json.gz). A report already stored is "
        "ignored. Exits non-zero if any file is rejected, naming each file and the reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        rejected = 0
        for name in options["files"]:
            path = Path(name)
            try:
                with path.open("rb") as handle:
                    kind = sniff_kind(handle.read(2))
                outcome = tlsrpt_ingest(
                    chunks=iter_file(path),
                    kind=kind,
                    channel=TlsReport.Channel.FILE,
                    source=path.name,
                )
            except OSError as exc:
                rejected += 1
                self.stderr.write(f"{name}: rejected: cannot read ({exc.strerror or exc})")
            except ReportRejected as exc:
                rejected += 1
                self.stderr.write(f"{name}: rejected: {exc}")
            else:
                self.stdout.write(f"{name}: {outcome.message}")
        if rejected:
            raise CommandError(f"{rejected} of {len(options['files'])} file(s) rejected")
