"""Pages of the dashboard: overview, my partners, matrix, organizations, enforcement, headers."""

from __future__ import annotations

import csv
import hashlib
from datetime import date

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from monitoring import enforcement, received, selectors, services
from monitoring.advice import advice_for_domain
from monitoring.forms import HeadersForm, MatrixFilterForm
from monitoring.probe.model import Level
from monitoring.received_messages import verdict_message
from partners.access import (
    get_organization_for_user,
    get_visible_organization,
    member_organizations,
)
from partners.models import Kind, Membership, Organization
from partners.views import staff_required

MATRIX_ROWS_PER_PAGE = 50
# A large insurer has thousands of partners: a page of them, worst first, reads faster.
PARTNERS_PER_PAGE = 100
# Levels in the order pages list them: best first, then unknown, then not checked.
LEVEL_KEYS = [*(str(level) for level in Level), selectors.NOT_CHECKED]
# Failed logins allowed per (address, user name) and per address in LOGIN_WINDOW seconds.
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW = 15 * 60


# -- accounts -------------------------------------------------------------------------------


def _login_keys(request: HttpRequest) -> list[tuple[str, int]]:
    address = request.META.get("REMOTE_ADDR", "")
    username = request.POST.get("username", "").strip().lower()
    # Hashed: user names do not belong in cache keys (and may hold any character).
    user_key = hashlib.sha256(f"{address}|{username}".encode()).hexdigest()
    return [
        (f"login-failures:user:{user_key}", LOGIN_FAILURES_PER_USER),
        (f"login-failures:address:{address}", LOGIN_FAILURES_PER_ADDRESS),
    ]


@require_http_methods(["GET", "POST"])
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """Django's login, refusing further tries for a while after repeated failures."""
    if request.method == "POST":
        keys = _login_keys(request)
        if any(cache.get(key, 0) >= limit for key, limit in keys):
            form = AuthenticationForm(request)
            context = {"form": form, "throttled": True, "next": request.POST.get("next", "")}
            return render(request, "registration/login.html", context, status=429)
        response = auth_views.LoginView.as_view(redirect_authenticated_user=True)(request)
        if response.status_code == 200:  # the form came back with errors: a failure
            for key, _limit in keys:
                cache.add(key, 0, LOGIN_WINDOW)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, LOGIN_WINDOW)
        return response
    return auth_views.LoginView.as_view(redirect_authenticated_user=True)(request)


# -- home, overview, my partners ------------------------------------------------------------


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on the rollout overview; members on their partners."""
    if not request.user.is_staff:
        return redirect("my-partners")
    overview = selectors.overview()
    kinds = []
    for kind, label in Kind.choices:
        counts = overview.by_kind.get(kind, {})
        if counts or kind != Kind.OTHER:
            rows = [(key, counts.get(key, 0)) for key in LEVEL_KEYS]
            kinds.append((label, rows, sum(counts.values())))
    return render(request, "monitoring/overview.html", {"overview": overview, "kinds": kinds})


@require_safe
@login_required
def my_partners(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user)
        .order_by("organization__name")
        .values_list("organization_id", "role")
    )
    own = selectors.organization_summaries(organization_ids=[pk for pk, _role in memberships])
    # `?org=<slug>&page=N` pages one organization's partners; the others show their first page.
    paged, number = request.GET.get("org", ""), _page_number(request)
    sections = [
        (
            organization,
            selectors.partner_page(
                organization=organization.id,
                page=number if organization.slug == paged else 1,
                per_page=PARTNERS_PER_PAGE,
            ),
        )
        for organization in sorted(own, key=lambda o: o.name.lower())
    ]
    return render(request, "monitoring/my_partners.html", {"sections": sections})


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# -- the partner matrix ----------------------------------------------------------------------


def _level_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(level key, count) in display order, leaving out zeros."""
    return [(key, counts[key]) for key in LEVEL_KEYS if counts.get(key)]


@require_safe
@login_required
@vary_on_headers("HX-Request")
def matrix(request: HttpRequest) -> HttpResponse:
    form = MatrixFilterForm(request.GET)
    page = selectors.matrix_page(
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
        "totals": _level_counts(page.counts),
        "columns": [
            (
                column,
                sum(page.column_counts[column.id].values()),
                _level_counts(page.column_counts[column.id]),
            )
            for column in page.columns
        ],
        "number": number,
        "pages": pages,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
        "query": query.urlencode(),
    }
    template = "monitoring/matrix.html"
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
    template = "monitoring/pair.html"
    if request.htmx:
        template += "#pair-panel"
    return render(request, template, context)


# -- organizations -------------------------------------------------------------------------


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
    is_admin = full and selectors.can_reprobe(user=request.user, organization=organization)
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
    template = "monitoring/organization.html"
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
        cycle = services.organization_reprobe(organization=organization, requested_by=request.user)
    except services.ReprobeTooSoon as exc:
        minutes = max(1, -(-int(exc.retry_after.total_seconds()) // 60))
        context["too_soon"] = minutes
        context["cycle"] = selectors.cycle_latest(organization=organization)
        status = 200 if request.htmx else 429  # htmx swaps only successful responses
        return render(request, "monitoring/organization.html#probe", context, status=status)
    if not request.htmx:
        return redirect("organization", slug=organization.slug)
    context["cycle"] = cycle
    return render(request, "monitoring/organization.html#probe", context)


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
        "can_reprobe": selectors.can_reprobe(user=request.user, organization=organization),
    }
    response = render(request, "monitoring/organization.html#probe", context)
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
    return render(request, "monitoring/enforce.html", context)


# -- exports --------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(filename: str, rows: object) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows),  # type: ignore[attr-defined]
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{date.today()}.csv"'
    return response


@require_safe
@login_required
@staff_required
def matrix_export(request: HttpRequest) -> StreamingHttpResponse:
    form = MatrixFilterForm(request.GET)

    def rows() -> object:
        yield ["brokerage", "insurer", "pair_level", "policy", "brokerage_level", "insurer_level"]
        for row, column, level in selectors.matrix_export_rows(
            viewer=request.user, filters=form.filters()
        ):
            yield [
                row.name,
                column.name,
                selectors.level_key(level),
                level.policy or "" if level is not None else "",
                selectors.level_key(row.level),
                selectors.level_key(column.level),
            ]

    return _csv_response("matrix", rows())


@require_safe
@login_required
@staff_required
def organizations_export(request: HttpRequest) -> StreamingHttpResponse:
    def rows() -> object:
        yield ["organization", "domain", "level", "warnings", "checked_at", "since"]
        for row in selectors.status_export_rows():
            yield [
                row.organization,
                row.domain or "",
                row.level,
                " ".join(row.warnings),
                row.checked_at.isoformat() if row.checked_at else "",
                row.since.isoformat() if row.since else "",
            ]

    return _csv_response("organizations", rows())


# -- the received-header analyzer -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def headers(request: HttpRequest) -> HttpResponse:
    form = HeadersForm(request.POST or None)
    hops = summary = verdict = None
    if request.method == "POST" and form.is_valid():
        hops = received.parse_headers(form.cleaned_data["headers"])
        summary = received.summarize(hops)
        verdict = verdict_message(summary)
    context = {"form": form, "hops": hops, "summary": summary, "verdict": verdict}
    template = "monitoring/headers.html"
    if request.htmx:
        template += "#hops"
    return render(request, template, context)
