"""Login throttling (django-axes) and request rate limits on forms that cost us something."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from secmail.security.client import client_address


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check in front of every login form.

    Code that authenticates without a request (tests' `client.login`, a shell) is not a login
    form and has no client to key on, so it passes instead of failing.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        if address_failures(client_address(request)) >= settings.SECMAIL_LOGIN_FAILURES_PER_ADDRESS:
            # Password spraying from one address: many accounts, few tries each. Only that
            # address pauses; the accounts stay open to their owners from anywhere else.
            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise AxesBackendPermissionDenied("too many failed logins from this address")
        return super().authenticate(request, *args, **kwargs)


def _slot(window: float, now: float | None = None) -> int:
    """The number of the clock-aligned window of `window` seconds that `now` falls in."""
    return int((time.time() if now is None else now) // window)


def _bump(cache_key: str, ttl: int) -> int:
    """Add one to the counter at `cache_key`, created for `ttl` seconds; the new count."""
    cache.add(cache_key, 0, ttl)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, ttl)
        return 1


def _address_key(address: str, now: float | None = None) -> str:
    slot = _slot(settings.AXES_COOLOFF_TIME.total_seconds(), now)
    return f"login-failures:address:{hashlib.sha256(address.encode()).hexdigest()}:{slot}"


def address_failures(address: str) -> int:
    """Failed logins from one client address in the current cool-off window, any account."""
    return int(cache.get(_address_key(address), 0))


def address_failed(address: str) -> None:
    """Count one failed login from `address` (every login form, through user_login_failed)."""
    _bump(_address_key(address), int(settings.AXES_COOLOFF_TIME.total_seconds()))


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: user names compared case-insensitively, like our logins."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None, *args: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, saying why, with 429."""
    from django.contrib.auth.forms import AuthenticationForm

    context = {
        "form": AuthenticationForm(request),
        "throttled": True,
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)


# -- rate limits ---------------------------------------------------------------------------------


def over_limit(scope: str, key: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one request for (scope, key) in the current clock-aligned window of `window`
    seconds; true once past `limit`. The one rate counter of the site (logins aside): password
    resets, header analyses, API tokens, TLS report posts.

    Keys are hashed: an email address or a user name does not belong in a cache key. With
    REDIS_URL set, every web process shares the count.
    """
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()
    return _bump(f"ratelimit:{scope}:{digest}:{_slot(window, now)}", window) > limit


def seconds_left(window: int, now: float | None = None) -> int:
    """Seconds until the current window of over_limit ends: a Retry-After."""
    return max(1, window - int((time.time() if now is None else now) % window))


def too_many(message: str | None = None) -> HttpResponse:
    return HttpResponse(
        message or _("Too many requests. Wait a few minutes and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
