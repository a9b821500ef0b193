"""`outbound_address ORG`: print the organization's outbound test address."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.evidence.services import ReceiverNotConfigured, outbound_address_text
from partners.models import Organization


class Command(BaseCommand):
    help = "Print <token>@<receiver domain> for an organization (its slug or exact name)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", metavar="ORG", help="slug or exact name")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["organization"]
        organization = (
            Organization.objects.filter(slug=key).first()
            or Organization.objects.filter(name=key).first()
        )
        if organization is None:
            raise CommandError(f"no organization with slug or name {key!r}")
        try:
            self.stdout.write(outbound_address_text(organization=organization))
        except ReceiverNotConfigured as exc:
            raise CommandError(str(exc)) from None
