"""The staff landing page: the rollout overview, and the organizations CSV."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from monitoring import selectors
from monitoring.dashboard import selectors as reads
from monitoring.dashboard.views.common import LEVEL_KEYS, csv_response
from monitoring.evidence.selectors import outbound_coverage, outbound_coverage_trend
from monitoring.explanations import selectors as explanations
from partners.access import staff_required
from partners.models import Kind
from secmail.security import audit


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on the rollout overview; members on their partners."""
    if not request.user.is_staff:
        return redirect("my-partners")
    overview = reads.overview()
    kinds = []
    for kind, label in Kind.choices:
        counts = overview.by_kind.get(kind, {})
        if counts or kind != Kind.OTHER:
            rows = [(key, counts.get(key, 0)) for key in LEVEL_KEYS]
            kinds.append((label, rows, sum(counts.values())))
    stated = sorted(
        explanations.current_explanations().values(),
        key=lambda c: (
            c.explanation.target_date if c.explanation and c.explanation.target_date else date.max,
            (c.explanation or c.exception).organization.name,
        ),
    )
    today = timezone.localdate()
    trend = outbound_coverage_trend()
    context = {
        "overview": overview,
        "outbound": outbound_coverage(),
        "outbound_first": trend[0] if len(trend) > 1 else None,
        "outbound_last": trend[-1] if len(trend) > 1 else None,
        "kinds": kinds,
        "explanations": stated,
        "overdue": [
            c
            for c in stated
            if c.explanation and c.explanation.target_date and c.explanation.target_date < today
        ],
    }
    return render(request, "dashboard/overview.html", context)


@require_safe
@login_required
@staff_required
def organizations_export(request: HttpRequest) -> StreamingHttpResponse:
    def rows() -> object:
        yield ["organization", "domain", "level", "warnings", "checked_at", "since", "explanation"]
        stated = explanations.current_explanations()
        for row in selectors.status_export_rows():
            yield [
                row.organization,
                row.domain or "",
                row.level,
                " ".join(row.warnings),
                row.checked_at.isoformat() if row.checked_at else "",
                row.since.isoformat() if row.since else "",
                stated[row.organization_id].as_text() if row.organization_id in stated else "",
            ]

    audit.record(request, "export", detail=request.get_full_path())
    return csv_response("organizations", rows())
