"""The partner matrix, its pair panel and its CSV export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from monitoring import selectors
from monitoring.dashboard import selectors as reads
from monitoring.dashboard.advice import advice_for_domain
from monitoring.dashboard.forms import MatrixFilterForm
from monitoring.dashboard.views.common import csv_response, level_counts
from monitoring.levels import level_key
from partners.access import (
    get_visible_organization,
    member_organizations,
)
from partners.models import Organization
from partners.views import staff_required
from secmail.security import audit

MATRIX_ROWS_PER_PAGE = 50
# A large insurer has thousands of partners: a page of them, worst first, reads faster.
PARTNERS_PER_PAGE = 100


@require_safe
@login_required
@vary_on_headers("HX-Request")
def matrix(request: HttpRequest) -> HttpResponse:
    form = MatrixFilterForm(request.GET)
    page = reads.matrix_page(
        viewer=request.user,
        filters=form.filters(),
        page=form.page_number(),
        per_page=MATRIX_ROWS_PER_PAGE,
    )
    number = form.page_number()
    pages = max(1, -(-page.row_total // MATRIX_ROWS_PER_PAGE))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "totals": level_counts(page.counts),
        "columns": [
            (
                column,
                sum(page.column_counts[column.id].values()),
                level_counts(page.column_counts[column.id]),
            )
            for column in page.columns
        ],
        "number": number,
        "pages": pages,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
        "query": query.urlencode(),
    }
    template = "dashboard/matrix.html"
    if request.htmx and request.htmx.target == "matrix-body":
        template += "#matrix-body"
    return render(request, template, context)


def _pair_sides(request: HttpRequest, a: str, b: str) -> tuple[Organization, Organization]:
    """Both organizations of a partnership the user may look at (staff, or a member of one)."""
    left = get_visible_organization(request.user, a)
    right = get_visible_organization(request.user, b)
    if not request.user.is_staff:
        own = set(member_organizations(request.user).values_list("pk", flat=True))
        if not own & {left.pk, right.pk}:
            raise Http404("No such pair.")
    if left.pk == right.pk or not selectors.is_partnership(left, right):
        raise Http404("No such pair.")
    return left, right


def _side(organization: Organization) -> dict[str, object]:
    statuses = selectors.organization_domains(organization=organization)
    observations = selectors.domain_observations(statuses=statuses)
    return {
        "organization": organization,
        "level": selectors.organization_level(organization),
        "domains": [(status, observations.get(status.domain_id, [])) for status in statuses],
    }


@require_safe
@login_required
@vary_on_headers("HX-Request")
def pair(request: HttpRequest, a: str, b: str) -> HttpResponse:
    left, right = _pair_sides(request, a, b)
    level = selectors.pair_level(left, right)
    sides = [_side(left), _side(right)]
    # What blocks the next level: the problems of the side(s) that set the pair's level.
    blockers = []
    for side in sides:
        if level is not None and side["level"] == level:
            for status, observations in side["domains"]:  # type: ignore[attr-defined]
                if status.level == str(level):
                    advice = advice_for_domain(status, observations)
                    blockers += [a for a in advice if a.severity == "problem"]
    context = {
        "sides": sides,
        "level": level,
        "policy": level.policy if level is not None else None,
        "blockers": blockers,
    }
    template = "dashboard/pair.html"
    if request.htmx:
        template += "#pair-panel"
    return render(request, template, context)


# -- organizations -------------------------------------------------------------------------


@require_safe
@login_required
@staff_required
def matrix_export(request: HttpRequest) -> StreamingHttpResponse:
    form = MatrixFilterForm(request.GET)

    def rows() -> object:
        yield ["brokerage", "insurer", "pair_level", "policy", "brokerage_level", "insurer_level"]
        for row, column, level in reads.matrix_export_rows(
            viewer=request.user, filters=form.filters()
        ):
            yield [
                row.name,
                column.name,
                level_key(level),
                level.policy or "" if level is not None else "",
                level_key(row.level),
                level_key(column.level),
            ]

    audit.record(request, "export", detail=request.get_full_path())
    return csv_response("matrix", rows())
