"""Recording an explanation (organization admins, staff) or an accepted exception (staff)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from monitoring.explanations import services
from monitoring.explanations.forms import ExplanationForm
from monitoring.explanations.models import Explanation
from partners.access import can_accept_exception, get_organization_for_user


@require_POST
@login_required
def explain(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    if kind not in Explanation.Kind.values:
        raise Http404("No such kind.")
    # An explanation is an admin's (or staff's): a viewer gets 403, a non-member 404.
    explaining = kind == Explanation.Kind.EXPLANATION
    organization = get_organization_for_user(request.user, slug, admin=explaining)
    if not explaining and not can_accept_exception(user=request.user):
        raise PermissionDenied("Not allowed to explain this organization's level.")
    form = ExplanationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the explanation."))
        return redirect("organization", slug=organization.slug)
    try:
        services.explanation_record(
            organization=organization,
            author=request.user,
            text=form.cleaned_data["text"],
            target_date=form.cleaned_data["target_date"],
            kind=kind,
        )
    except services.NothingToExplain:
        messages.error(request, _("Only a level below verified can be explained."))
    else:
        messages.success(request, _("Saved. Partners and staff see it beside the level."))
    return redirect("organization", slug=organization.slug)
