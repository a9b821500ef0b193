"""`manage.py preview_digest --contact EMAIL [--html PATH]`: render a digest without sending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.notifications import digests
from partners.models import Contact


class Command(BaseCommand):
    help = "Print the digest a contact would receive now (text part); --html writes the HTML."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contact", metavar="EMAIL", required=True)
        parser.add_argument("--html", metavar="PATH", type=Path, help="write the HTML part here")

    def handle(self, *args: Any, contact: str, html: Path | None, **options: Any) -> None:
        contacts = list(
            Contact.objects.filter(email__iexact=contact)
            .select_related("organization")
            .order_by("pk")
        )
        if not contacts:
            raise CommandError(f"no contact with the address {contact}")
        pages = []
        for found, digest in digests.digests_build(contacts=contacts):
            rendered = digests.digest_render(digest)
            self.stdout.write(f"To: {found.email}\nSubject: {rendered.subject}\n")
            self.stdout.write(rendered.text)
            pages.append(rendered.html)
        if html is not None:
            html.write_text("\n".join(pages), encoding="utf-8")
            self.stdout.write(f"HTML written to {html}")
