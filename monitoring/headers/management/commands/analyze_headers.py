"""`manage.py analyze_headers`: list a message's Received hops and the TLS each one states."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.headers.parser import MAX_INPUT_CHARS, Hop, parse_headers, summarize
from monitoring.headers.wording import verdict_message

_TLS_LABEL = {True: "yes", False: "no", None: "-"}


class Command(BaseCommand):
    help = "Show each Received hop of a message (from, by, with, date) and the TLS it states."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="headers or a whole message; - for stdin")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object per hop per line"
        )

    def handle(self, *args: object, **options: object) -> None:
        path = str(options["file"])
        hops = parse_headers(_read(path))
        if not hops:
            self.stderr.write(f"no Received headers found in {path}")
            return
        if options["json"]:
            for hop in hops:
                self.stdout.write(json.dumps(hop.to_json(), ensure_ascii=False))
            return
        self.stdout.write(_table(hops))
        summary = summarize(hops)
        counts = (
            f"{summary.total} hops: {summary.with_tls} with TLS, "
            f"{summary.without_tls} without, {summary.unknown} not stated"
        )
        if summary.weakest_version:
            counts += f"; weakest {summary.weakest_version}"
        self.stdout.write("")
        self.stdout.write(counts)
        self.stdout.write(str(verdict_message(summary)))


def _read(path: str) -> str:
    # Headers sit at the top: reading past the parser's bound would only cost memory.
    limit = MAX_INPUT_CHARS * 4
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:  # a text stream with no bytes underneath (tests, some shells)
                return sys.stdin.read(MAX_INPUT_CHARS)
            data = stream.read(limit)
        else:
            with open(path, "rb") as handle:
                data = handle.read(limit)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    # Mail headers are ASCII with the odd Latin-1 or UTF-8 name: replace rather than refuse.
    return data.decode("utf-8", errors="replace")


def _table(hops: list[Hop]) -> str:
    header = ("#", "TLS", "version", "cipher", "from", "by", "with", "date")
    rows = [header] + [
        (
            str(number),
            _TLS_LABEL[hop.tls],
            hop.tls_version or "-",
            hop.cipher or "-",
            hop.from_ or "-",
            hop.by or "-",
            hop.with_ or "-",
            hop.date.isoformat() if hop.date else (hop.date_text or "-"),
        )
        for number, hop in enumerate(hops, start=1)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join([cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]])
        for row in rows
    )
