"""`manage.py seed_industry`: a synthetic industry with monitoring history, for benchmarks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from secmail.demo.industry import IndustryNotEmpty, industry_reset, industry_seed


class Command(BaseCommand):
    help = (
        "Create a SYNTHETIC industry (insurers, brokerages, domains, partnerships, contacts, "
        "users, statuses and 90 days of history) for benchmarks. Refuses a non-empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orgs", type=int, default=10_000, help="organizations (10,000)")
        parser.add_argument(
            "--insurers", type=int, default=None, help="insurers among them (3%%: 300 of 10,000)"
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete a previous synthetic industry (never touches real organizations)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["orgs"] < 1:
            raise CommandError("--orgs must be at least 1")
        try:
            if options["reset"]:
                industry_reset()
            report = industry_seed(
                organizations=options["orgs"], insurers=options["insurers"], seed=options["seed"]
            )
        except IndustryNotEmpty as exc:
            hint = "" if options["reset"] else " (use --reset to replace a synthetic industry)"
            raise CommandError(f"{exc}{hint}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"SYNTHETIC DATA created in {report.seconds:.1f} s: "
                f"{report.organizations} organizations ({report.insurers} insurers), "
                f"{report.domains} domains, {report.partnerships} partnerships, "
                f"{report.contacts} contacts, {report.cycles} cycles, "
                f"{report.changes} status changes, {report.certificates} certificates, "
                f"{report.observations} observations"
            )
        )
        self.stdout.write("Users (no password: set one with `manage.py changepassword`):")
        for username, slug, role in report.users:
            self.stdout.write(f"  {username}  {role}{' of ' + slug if slug else ''}")
