"""Sign-in pages of the dashboard: Django's login and password reset, behind our throttles.

Failed logins are throttled by django-axes for every login form (this one and the admin's);
see secmail/security/throttle.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from secmail.security.client import client_address
from secmail.security.throttle import over_limit, too_many

RESET_WINDOW = 60 * 60


@require_http_methods(["GET", "POST"])
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    return auth_views.LoginView.as_view(redirect_authenticated_user=True)(request)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Django's password reset, capped per client address and per email address.

    Each request sends an email: without a cap, anyone could flood a person's inbox from our
    relay, or spend its reputation.
    """
    if request.method == "POST":
        limited = _("Too many password reset requests. Wait an hour and try again.")
        if over_limit(
            "reset-client",
            client_address(request),
            limit=settings.SECMAIL_RESET_PER_CLIENT,
            window=RESET_WINDOW,
        ):
            return too_many(limited)
        if over_limit(
            "reset-address",
            request.POST.get("email", ""),
            limit=settings.SECMAIL_RESET_PER_ADDRESS,
            window=RESET_WINDOW,
        ):
            return too_many(limited)
    return auth_views.PasswordResetView.as_view()(request)
