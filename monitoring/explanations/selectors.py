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
    """The latest non-withdrawn explanation and exception per organization, in two queries."""
    latest = Explanation.objects.values("organization_id", "kind").annotate(last=Max("pk"))
    if organization_ids is not None:
        latest = latest.filter(organization_id__in=list(organization_ids))
    rows = Explanation.objects.filter(pk__in=[row["last"] for row in latest]).exclude(text="")
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
    return list(
        Explanation.objects.filter(organization_id=organization_id).select_related("author")
    )


def due_soon(current: Current, *, today: date, within_days: int = REMINDER_DAYS) -> bool:
    """The explanation's target date is today or within the next `within_days` days."""
    target = current.explanation.target_date if current.explanation else None
    return target is not None and today <= target <= today + timedelta(days=within_days)
