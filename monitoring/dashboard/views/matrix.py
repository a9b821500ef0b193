"""The partner matrix, its pair panel and its CSV export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from monitoring import levels, selectors
from monitoring.dashboard import selectors as reads
from monitoring.dashboard.advice import advice_for_domain, outbound_advice
from monitoring.dashboard.forms import MatrixFilterForm
from monitoring.dashboard.views.common import csv_response, level_counts
from monitoring.explanations import selectors as explanations
from monitoring.levels import level_key
from monitoring.probe.model import Level
from partners.access import get_pair_for_user, staff_required
from partners.models import Organization
from secmail.security import audit

MATRIX_ROWS_PER_PAGE = 50


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


def _side(
    organization: Organization, level: Level | None, explanation: explanations.Current
) -> dict[str, object]:
    statuses = selectors.organization_domains(organization=organization)
    observations = selectors.domain_observations(statuses=statuses)
    return {
        "organization": organization,
        "level": level,
        "explanation": explanation,
        "domains": [(status, observations.get(status.domain_id, [])) for status in statuses],
    }


def _direction(
    sender: Organization,
    receiver: Organization,
    level: Level | None,
    outbound: str,
    receiver_level: object,
) -> dict[str, object]:
    """One direction of a pair as the panel tells it: protected at `level`, capped below the
    receiver's inbound level when the sender's own sending is weaker."""
    return {
        "sender": sender,
        "receiver": receiver,
        "level": level,
        "outbound": levels.outbound_label(outbound),
        "capped": level != levels.as_level(receiver_level),
        "observed": outbound != levels.OUTBOUND_UNKNOWN,
    }


@require_safe
@login_required
@vary_on_headers("HX-Request")
def pair(request: HttpRequest, a: str, b: str) -> HttpResponse:
    left, right = get_pair_for_user(request.user, a, b)
    # Both sides' levels, outbound and explanations, each read once for the whole panel.
    ids = [left.pk, right.pk]
    states = selectors.organization_states(organization_ids=ids)
    stated = explanations.current_explanations(organization_ids=ids)
    verdict = levels.pair_verdict(
        states[left.pk].level,
        states[right.pk].level,
        states[left.pk].outbound,
        states[right.pk].outbound,
    )
    outbound = {pk: state.outbound for pk, state in states.items()}
    sides = [
        _side(side, states[side.pk].level, stated.get(side.pk, explanations.NONE))
        for side in (left, right)
    ]
    directions = [
        _direction(left, right, verdict.a_to_b, outbound[left.pk], sides[1]["level"]),
        _direction(right, left, verdict.b_to_a, outbound[right.pk], sides[0]["level"]),
    ]
    level = verdict.level
    # What blocks the next level: the receiving side(s) whose inbound level sets the pair's
    # level, and a sender whose own sending caps it.
    blockers = []
    for direction, side in zip(directions, reversed(sides), strict=True):
        if level is None or direction["level"] != level:
            continue
        if direction["capped"]:
            sender = direction["sender"]
            blockers.append(outbound_advice(sender.name, outbound[sender.pk]))
            continue
        for status, observations in side["domains"]:  # type: ignore[attr-defined]
            if status.level == str(level):
                advice = advice_for_domain(status, observations)
                blockers += [a for a in advice if a.severity == "problem"]
    context = {
        "sides": sides,
        "level": level,
        "verdict": verdict,
        "directions": directions,
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
        yield [
            "brokerage",
            "insurer",
            "pair_level",
            "policy",
            "brokerage_to_insurer",
            "insurer_to_brokerage",
            "assumed",
            "brokerage_level",
            "insurer_level",
            "brokerage_outbound",
            "insurer_outbound",
            "brokerage_explanation",
            "insurer_explanation",
        ]
        stated = explanations.current_explanations()
        for cell in reads.matrix_export_rows(viewer=request.user, filters=form.filters()):
            row, column, verdict = cell.row, cell.column, cell.verdict
            yield [
                row.name,
                column.name,
                level_key(verdict.level),
                cell.policy or "",
                level_key(verdict.a_to_b),
                level_key(verdict.b_to_a),
                "yes" if verdict.assumed else "no",
                level_key(row.level),
                level_key(column.level),
                row.outbound,
                column.outbound,
                stated[row.id].as_text() if row.id in stated else "",
                stated[column.id].as_text() if column.id in stated else "",
            ]

    audit.record(request, "export", detail=request.get_full_path())
    return csv_response("matrix", rows())
