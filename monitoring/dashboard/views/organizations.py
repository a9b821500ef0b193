"""An organization's page, its re-probe with live progress, and its enforcement export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from monitoring import cycles, selectors
from monitoring.dashboard import enforcement
from monitoring.dashboard.advice import advice_for_domain
from partners.access import (
    can_reprobe,
    get_organization_for_user,
    get_visible_organization,
)
from partners.models import Membership, Organization
from secmail.security import audit


def _is_member(request: HttpRequest, organization: Organization) -> bool:
    return (
        request.user.is_staff
        or Membership.objects.filter(user=request.user, organization=organization).exists()
    )


@require_safe
@login_required
@vary_on_headers("HX-Request")
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    """An organization in full for its members and staff; level, warnings and MX for partners."""
    organization = get_visible_organization(request.user, slug)
    full = _is_member(request, organization)
    statuses = selectors.organization_domains(organization=organization)
    observations = selectors.domain_observations(statuses=statuses)
    domains = []
    for status in statuses:
        found = observations.get(status.domain_id, [])
        advice = advice_for_domain(status, found) if full and status.level else []
        domains.append({"status": status, "observations": found, "advice": advice})
    # The same people (staff and the organization's admins) re-probe and manage contacts.
    is_admin = full and can_reprobe(user=request.user, organization=organization)
    context = {
        "organization": organization,
        "level": selectors.organization_level(organization),
        "full": full,
        "domains": domains,
        "history": selectors.organization_history(organization=organization) if full else [],
        "can_reprobe": is_admin,
        "can_manage_contacts": is_admin,
        "cycle": selectors.cycle_latest(organization=organization) if full else None,
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


@require_safe
@login_required
def enforce(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_organization_for_user(request.user, slug)
    plan = enforcement.enforcement_plan(organization=organization)
    context = {
        "organization": organization,
        "plan": plan,
        "configs": [
            ("postfix", _("Postfix"), enforcement.postfix_policy(plan)),
            (
                "exchange",
                _("Exchange Online (PowerShell)"),
                enforcement.exchange_online_script(plan),
            ),
            ("exim", _("Exim"), enforcement.exim_config(plan)),
            ("sendmail", _("Sendmail"), enforcement.sendmail_access(plan)),
        ],
    }
    return render(request, "dashboard/enforce.html", context)
