"""A member's landing page: their own organizations, then their partners worst first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from monitoring.dashboard import selectors as reads
from monitoring.dashboard.views.common import page_number
from partners.access import own_organizations

# A large insurer has thousands of partners: a page of them, worst first, reads faster.
PARTNERS_PER_PAGE = 100


@require_safe
@login_required
def my_partners(request: HttpRequest) -> HttpResponse:
    own_ids = own_organizations(request.user).values_list("pk", flat=True)
    own = reads.organization_summaries(organization_ids=own_ids)
    # `?org=<slug>&page=N` pages one organization's partners; the others show their first page.
    paged, number = request.GET.get("org", ""), page_number(request)
    sections = [
        (
            organization,
            reads.partner_page(
                organization=organization.id,
                page=number if organization.slug == paged else 1,
                per_page=PARTNERS_PER_PAGE,
            ),
        )
        for organization in sorted(own, key=lambda o: o.name.lower())
    ]
    return render(request, "dashboard/my_partners.html", {"sections": sections})
