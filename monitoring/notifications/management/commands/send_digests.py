"""`manage.py send_digests [--contact EMAIL] [--dry-run]`: queue due digests and send them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitoring.notifications import digests, outbox


class Command(BaseCommand):
    help = (
        "Queue today's digests (weekly ones on Mondays; with --contact, that address's "
        "whatever the day), each once per period, then send the outbox."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contact", metavar="EMAIL", help="only this contact's digests")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be sent; store nothing"
        )

    def handle(self, *args: Any, contact: str | None, dry_run: bool, **options: Any) -> None:
        run, outgoing = digests.digests_enqueue(email=contact, dry_run=dry_run)
        if dry_run:
            for message in outgoing:
                self.stdout.write(f"To: {message.to}\nSubject: {message.rendered.subject}\n")
                self.stdout.write(message.rendered.text)
                self.stdout.write("")
        verb = "would queue" if dry_run else "queued"
        self.stdout.write(
            f"{run.considered} contact(s): {verb} {run.queued}, nothing to say for "
            f"{run.skipped_quiet}, already done this period for {run.already}"
        )
        if dry_run:
            return
        report = outbox.outbox_send_due()
        self.stdout.write(f"sent {report.sent}, failed {report.failed} (queued for a retry)")
