"""`manage.py probe`: probe domains now and print the verdicts; never touches the database.

The same runner as `python -m monitoring.probe`; only the configuration comes from Django's
settings here.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.probe import cli
from monitoring.probe_config import probe_config


class Command(BaseCommand):
    help = "Probe the MX hosts of DOMAINs (STARTTLS, certificates, MTA-STS, DANE, TLS-RPT)."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        try:
            names = cli.domains_to_probe(options["domains"], options.get("file"))  # type: ignore[arg-type]
            try:
                config = probe_config()
            except ValueError as exc:
                raise cli.UsageError(f"probe settings: {exc}") from None
            cli.run(names, config, as_json=bool(options["json"]), write=self.stdout.write)
        except cli.UsageError as exc:
            raise CommandError(str(exc)) from None
