"""`manage.py seed_demo`: load the fictional demo industry (organizations, domains, users)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.models import Organization
from secmail.demo.demo import demo_loaded, demo_logins, load_demo
from secmail.demo.evidence import load_demo_evidence


class Command(BaseCommand):
    help = "Load a demo industry of fictional .test organizations and three demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--first-run",
            action="store_true",
            help="do nothing unless the registry is empty (used by `make run`)",
        )
        parser.add_argument(
            "--force", action="store_true", help="load even with DEBUG off (never in production)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("refusing to load demo users with DEBUG off; use --force")
        if options["first_run"] and Organization.objects.exists():
            state = "the demo" if demo_loaded() else "a registry"
            self.stdout.write(f"seed_demo: {state} is already loaded; nothing to do.")
            return
        result = load_demo()
        load_demo_evidence()
        self.stdout.write(
            self.style.SUCCESS(
                f"DEMO DATA loaded: {result.organizations_created} fictional organizations "
                "under .test"
            )
        )
        logins = demo_logins() | result.logins
        if logins:
            self.stdout.write("Demo logins (email / password):")
            for email, password in logins.items():
                self.stdout.write(f"  {email}  {password}")
