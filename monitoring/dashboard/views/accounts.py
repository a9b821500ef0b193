"""Sign-in of the dashboard: Django's login with a throttle on repeated failures."""

from __future__ import annotations

import hashlib

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

# Failed logins allowed per (address, user name) and per address in LOGIN_WINDOW seconds.
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW = 15 * 60


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
