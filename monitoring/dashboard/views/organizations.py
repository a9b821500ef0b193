"""An organization's page, its re-probe with live progress, and its enforcement export."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from monitoring import cycles, levels, selectors
from monitoring.dashboard import enforcement
from monitoring.dashboard.advice import advice_for_domain, outbound_advice
from monitoring.evidence.join import reports_beside_probes
from monitoring.evidence.selectors import outbound_summary
from monitoring.evidence.services import outbound_address_text, tlsrpt_address
from monitoring.explanations import selectors as explanations
from monitoring.explanations.forms import ExplanationForm
from partners.access import (
    can_reprobe,
    get_organization_for_user,
    get_visible_organization,
    permissions_for,
)
from partners.models import Organization
from secmail.security import audit


def _outbound(organization: Organization) -> dict[str, object]:
    """The organization's outbound test address and what its gateways' messages showed."""
    summary = outbound_summary(organization=organization)
    return {
        "address": outbound_address_text(organization=organization) if tlsrpt_address() else None,
        "summary": summary,
        "label": levels.outbound_label(summary.outbound),
        "advice": outbound_advice(organization.name, summary.outbound),
    }


@require_safe
@login_required
@vary_on_headers("HX-Request")
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    """An organization in full for its members and staff; level, warnings and MX for partners."""
    organization = get_visible_organization(request.user, slug)
    permissions = permissions_for(request.user, organization)
    full = permissions.member
    statuses = selectors.organization_domains(organization=organization)
    observations = selectors.domain_observations(statuses=statuses)
    reports = reports_beside_probes(statuses=statuses, observations=observations) if full else {}
    domains = []
    for status in statuses:
        found = observations.get(status.domain_id, [])
        advice = advice_for_domain(status, found) if full and status.level else []
        domains.append(
            {
                "status": status,
                "observations": found,
                "advice": advice,
                "reports": reports.get(status.domain_id),
            }
        )

    # Members see the history; the current version is read from it (one query either way).
    history = explanations.explanation_history(organization.pk) if full else []
    current = (
        explanations.current_of(history)
        if full
        else explanations.current_explanation(organization.pk)
    )
    context = {
        "organization": organization,
        "level": selectors.organization_level(organization),
        "full": full,
        "domains": domains,
        "history": selectors.organization_history(organization=organization) if full else [],
        "can_reprobe": permissions.reprobe,
        "can_manage_contacts": permissions.manage_contacts,
        "cycle": selectors.cycle_latest(organization=organization) if full else None,
        "outbound": _outbound(organization) if full else None,
        "explanation": current,
        "explanation_history": history,
        "can_explain": permissions.explain,
        "can_accept_exception": permissions.accept_exception,
        "explanation_form": ExplanationForm(),
    }
    template = "dashboard/organization.html"
    if request.htmx:
        template += "#org-status"
    return render(request, template, context)


@require_POST
@login_required
def organization_probe(request: HttpRequest, slug: str) -> HttpResponse:
    """Re-probe an organization now (staff and its admins), at most once per few minutes."""
    organization = get_organization_for_user(request.user, slug, admin=True)
    context: dict[str, object] = {"organization": organization, "can_reprobe": True}
    try:
        cycle = cycles.organization_reprobe(organization=organization, requested_by=request.user)
        audit.record(request, "probe-started", detail=organization.slug)
    except cycles.ReprobeTooSoon as exc:
        minutes = max(1, -(-int(exc.retry_after.total_seconds()) // 60))
        context["too_soon"] = minutes
        context["cycle"] = selectors.cycle_latest(organization=organization)
        status = 200 if request.htmx else 429  # htmx swaps only successful responses
        return render(request, "dashboard/organization.html#probe", context, status=status)
    if not request.htmx:
        return redirect("organization", slug=organization.slug)
    context["cycle"] = cycle
    return render(request, "dashboard/organization.html#probe", context)


@require_safe
@login_required
def probe_progress(request: HttpRequest, slug: str, cycle_id: int) -> HttpResponse:
    """The progress of a re-probe; polled by htmx until the cycle finishes."""
    organization = get_organization_for_user(request.user, slug)
    cycle = selectors.organization_cycle(organization=organization, cycle_id=cycle_id)
    if cycle is None:
        raise Http404("No such probe.")
    context = {
        "organization": organization,
        "cycle": cycle,
        "can_reprobe": can_reprobe(user=request.user, organization=organization),
    }
    response = render(request, "dashboard/organization.html#probe", context)
    if cycle.finished is not None:
        # The domains, advice and history reload themselves on this event.
        response["HX-Trigger"] = "domainsChanged"
    return response


CHANGES_DAYS = 30


def _since(request: HttpRequest) -> date:
    """The `since` date of the Exchange script's change list (default: 30 days ago)."""
    try:
        return date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return timezone.localdate() - timedelta(days=CHANGES_DAYS)


@require_safe
@login_required
def enforce(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_organization_for_user(request.user, slug)
    plan = enforcement.enforcement_plan(organization=organization)
    since = _since(request)
    start = timezone.make_aware(datetime.combine(since, time.min))
    changes = enforcement.partner_changes(organization=organization, since=start)
    feed = request.build_absolute_uri(f"/api/v1/organizations/{organization.slug}/policy/")
    context = {
        "organization": organization,
        "plan": plan,
        "since": since,
        "changes": changes,
        "feed": feed,
        "configs": [
            ("postfix", _("Postfix"), enforcement.postfix_policy(plan)),
            (
                "exchange",
                _("Exchange Online (PowerShell)"),
                enforcement.exchange_online_script(plan, since=since, changes=changes),
            ),
            ("exim", _("Exim"), enforcement.exim_config(plan)),
            ("sendmail", _("Sendmail"), enforcement.sendmail_access(plan)),
        ],
    }
    return render(request, "dashboard/enforce.html", context)
