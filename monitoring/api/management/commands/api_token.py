"""`manage.py api_token create USERNAME [--name N]`: a new API token, printed once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.api import services


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token")
        create.add_argument("username")
        create.add_argument("--name", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["username"]})
        except user_model.DoesNotExist as exc:
            raise CommandError(f"No user {options['username']!r}.") from exc
        if not user.is_active:
            raise CommandError(f"User {options['username']!r} is deactivated.")
        token, secret = services.token_create(user=user, name=options["name"])
        self.stdout.write(secret)
        self.stderr.write(f"Token {token.name!r} created; it is not shown again.")
