"""`receive_mail`: run secmail's receiving SMTP service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.evidence.receiver import Receiver, ReceiverConfig, serve
from monitoring.evidence.services import DatabaseBackend, ReceiverNotConfigured


class Command(BaseCommand):
    help = (
        "Receive mail for SECMAIL_RECEIVER_DOMAIN on SECMAIL_RECEIVER_LISTEN: record how "
        "messages to outbound test addresses arrive, and take SMTP TLS reports."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = ReceiverConfig.from_settings()
            backend = DatabaseBackend()
        except ReceiverNotConfigured as exc:
            raise CommandError(str(exc)) from None
        try:
            receiver = Receiver(config, backend)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot load the receiver's certificate or key: {exc}") from None

        def ready(bound: list[tuple[str, int]]) -> None:
            where = ", ".join(f"{host}:{port}" for host, port in bound)
            self.stdout.write(f"receiving mail for {config.domain} on {where}")
            self.stdout.flush()

        try:
            asyncio.run(serve(receiver, ready))
        except OSError as exc:
            raise CommandError(f"cannot listen: {exc}") from None
