"""Reads of comply-or-explain: the current explanation and exception of organizations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max

from monitoring.explanations.models import Explanation

REMINDER_DAYS = 7


@dataclass(frozen=True)
class Current:
    explanation: Explanation | None
    exception: Explanation | None

    @property
    def empty(self) -> bool:
        return self.explanation is None and self.exception is None

    def as_text(self) -> str:
        """One line for exports."""
        parts = []
        if self.exception is not None:
            parts.append(f"[exception] {self.exception.text}")
        if self.explanation is not None:
            until = self.explanation.target_date
            parts.append(self.explanation.text + (f" (by {until.isoformat()})" if until else ""))
        return " | ".join(parts)


NONE = Current(None, None)


def current_explanations(*, organization_ids: Iterable[int] | None = None) -> dict[int, Current]:
    """The latest non-withdrawn explanation and exception per organization, in one query."""
    latest = Explanation.objects.values("organization_id", "kind").annotate(last=Max("pk"))
    if organization_ids is not None:
        latest = latest.filter(organization_id__in=list(organization_ids))
    rows = Explanation.objects.filter(pk__in=latest.values("last")).exclude(text="")
    found: dict[int, dict[str, Explanation]] = {}
    for row in rows.select_related("author", "organization"):
        found.setdefault(row.organization_id, {})[row.kind] = row
    return {
        pk: Current(kinds.get(Explanation.Kind.EXPLANATION), kinds.get(Explanation.Kind.EXCEPTION))
        for pk, kinds in found.items()
    }


def current_explanation(organization_id: int) -> Current:
    return current_explanations(organization_ids=[organization_id]).get(organization_id, NONE)


def explanation_history(organization_id: int) -> list[Explanation]:
    """Every version, newest first, with its author."""
    return list(
        Explanation.objects.filter(organization_id=organization_id).select_related("author")
    )


def current_of(history: list[Explanation]) -> Current:
    """The current explanation and exception from an organization's history (newest first)."""
    latest: dict[str, Explanation] = {}
    for row in history:
        latest.setdefault(row.kind, row)
    explanation = latest.get(Explanation.Kind.EXPLANATION)
    exception = latest.get(Explanation.Kind.EXCEPTION)
    return Current(
        explanation if explanation is not None and explanation.text else None,
        exception if exception is not None and exception.text else None,
    )


def due_soon(current: Current, *, today: date, within_days: int = REMINDER_DAYS) -> bool:
    """The explanation's target date is today or within the next `within_days` days."""
    target = current.explanation.target_date if current.explanation else None
    return target is not None and today <= target <= today + timedelta(days=within_days)
