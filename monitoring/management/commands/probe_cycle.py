"""`manage.py probe_cycle [--org SLUG] [--wait]`: start a probe cycle, optionally wait for it."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import cycles, selectors
from monitoring.models import ProbeCycle
from partners.models import Organization

# How long --wait keeps asking for a worker on the probe queue before it gives up, and how often.
NO_WORKER_GRACE = 60.0
NO_WORKER_ASK_EVERY = 10.0


class Command(BaseCommand):
    help = "Enqueue a probe cycle over every monitored domain (or one organization's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="only this organization's domains")
        parser.add_argument(
            "--wait", action="store_true", help="show progress until done, then a summary"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            metavar="SECONDS",
            help="with --wait: give up after this long (the cycle goes on)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="domains per batch (SECMAIL_BATCH_SIZE)"
        )

    def handle(self, *args: object, **options: object) -> None:
        organization = None
        slug = options["org"]
        if slug:
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                raise CommandError(f"no organization with slug {slug!r}")
        # An operator at the console is not rate-limited like a re-probe asked for on the web.
        cycle = cycles.cycle_start(
            trigger=ProbeCycle.Trigger.SINGLE if organization else ProbeCycle.Trigger.MANUAL,
            organization=organization,
            size=options["batch_size"],  # type: ignore[arg-type]
        )
        self.stdout.write(f"cycle {cycle.pk}: {cycle.total} domain(s) enqueued")
        if options["wait"]:
            self._wait(cycle.pk, options["timeout"])  # type: ignore[arg-type]

    def _wait(self, cycle_id: int, timeout: float | None) -> None:
        started = time.monotonic()
        tty = sys.stdout.isatty()
        last = None
        consumer_seen = warned = False
        asked_at: float | None = None
        while True:
            progress = selectors.cycle_progress(cycle_id=cycle_id)
            if progress is None:
                raise CommandError(f"cycle {cycle_id} disappeared")
            if (
                not consumer_seen
                and not progress.finished
                and (asked_at is None or time.monotonic() - asked_at >= NO_WORKER_ASK_EVERY)
            ):
                asked_at = time.monotonic()
                consumer_seen = self._check_consumers(cycle_id, started, warned=warned)
                warned = True
            shown = (progress.done, progress.total)
            if shown != last or progress.finished:
                line = f"{_bar(progress.percent)} {progress.done}/{progress.total}"
                if tty:
                    self.stdout.write("\r" + line, ending="")
                    self.stdout.flush()
                else:
                    self.stdout.write(line)
                last = shown
            if progress.finished:
                break
            if timeout is not None and time.monotonic() - started > timeout:
                if tty:
                    self.stdout.write("")
                raise CommandError(
                    f"cycle {cycle_id} not finished after {timeout:.0f} s "
                    f"({progress.done}/{progress.total}); is a worker consuming the "
                    "`probe` queue?"
                )
            time.sleep(0.5)
        if tty:
            self.stdout.write("")
        elapsed = time.monotonic() - started
        counts = ", ".join(f"{level} {n}" for level, n in sorted(progress.counts.items()))
        self.stdout.write(
            f"cycle {cycle_id} finished: {progress.done} domain(s) in {elapsed:.1f} s"
            + (f" ({counts})" if counts else "")
        )

    def _check_consumers(self, cycle_id: int, started: float, *, warned: bool) -> bool:
        """True once a worker consumes the probe queue; gives up after NO_WORKER_GRACE without."""
        consumers = cycles.probe_consumers()
        if consumers is None or consumers:
            # Found one, or cannot tell (the broker refuses broadcasts): progress will show.
            return True
        queue = cycles.probe_queue()
        if time.monotonic() - started >= NO_WORKER_GRACE:
            raise CommandError(
                f"no worker consumes the `{queue}` queue after {NO_WORKER_GRACE:.0f} s; cycle "
                f"{cycle_id} stays enqueued. Start one: `celery -A secmail worker` (or add "
                f"`{queue}` to its -Q list)."
            )
        if not warned:
            self.stderr.write(
                f"no worker consumes the `{queue}` queue yet: nothing will be probed until one "
                f"does (`celery -A secmail worker`); waiting up to {NO_WORKER_GRACE:.0f} s."
            )
        return False


def _bar(percent: int, width: int = 30) -> str:
    filled = width * percent // 100
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%"
