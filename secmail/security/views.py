"""Pages of the second factor (enrolment, verification, recovery codes) and the audit trail."""

from __future__ import annotations

import base64
from datetime import date, datetime, time

import segno
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from monitoring.dashboard.views.common import csv_response
from partners.access import staff_required
from secmail.security import audit

RECOVERY_CODES = 10


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    """Verify with a code from the app or a recovery code; enrol first when there is no app."""
    user = request.user
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return _enrol(request)
    error = None
    if request.method == "POST":
        device = match_token(user, request.POST.get("code", "").replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            audit.record(request, "second-factor-verified", detail=type(device).__name__)
            return redirect(_next_url(request))
        audit.record(request, "second-factor-failed")
        error = _("That code did not match. Try the current code, or a recovery code.")
    context = {"mode": "verify", "error": error, "next": _next_url(request)}
    return render(request, "security/second_factor.html", context)


def _enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "authenticator app"}
    )
    error = None
    if request.method == "POST":
        if device.verify_token(request.POST.get("code", "").replace(" ", "")):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_recovery_codes(user)
            otp_login(request, device)
            audit.record(request, "second-factor-enrolled")
            context = {"mode": "codes", "codes": codes, "next": _next_url(request)}
            return render(request, "security/second_factor.html", context)
        audit.record(request, "second-factor-failed", detail="enrolment")
        error = _("That code did not match. Check the time on your phone and try again.")
    context = {
        "mode": "enrol",
        "error": error,
        "secret": base64.b32encode(device.bin_key).decode(),
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
        "next": _next_url(request),
    }
    return render(request, "security/second_factor.html", context)


def _new_recovery_codes(user: object) -> list[str]:
    """Ten single-use codes, replacing any earlier ones; shown once."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes")
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


# -- the audit trail -------------------------------------------------------------------------


def _trail_filters(request: HttpRequest) -> dict[str, object]:
    since = None
    raw_since = request.GET.get("since", "").strip()
    if raw_since:
        try:
            since = timezone.make_aware(datetime.combine(date.fromisoformat(raw_since), time()))
        except ValueError:
            since = None
    return {
        "action": request.GET.get("action", "").strip(),
        "username": request.GET.get("user", "").strip(),
        "since": since,
    }


@require_safe
@login_required
@staff_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Who did what, when, from where (staff only), filtered by action, user and date."""
    filters = _trail_filters(request)
    context = {
        "rows": audit.trail(**filters),  # type: ignore[arg-type]
        "actions": audit.ACTIONS,
        "filters": request.GET,
        "export_query": request.GET.urlencode(),
    }
    return render(request, "security/audit.html", context)


@require_safe
@login_required
@staff_required
def audit_export(request: HttpRequest) -> HttpResponse:
    rows = audit.trail(**_trail_filters(request), limit=100_000)  # type: ignore[arg-type]
    audit.record(request, "export", detail=request.get_full_path())
    return csv_response("audit", audit.trail_csv_rows(rows))
