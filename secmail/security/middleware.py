"""Request gates: forwarded headers only from declared proxies; the second factor first."""

from __future__ import annotations

from collections.abc import Callable

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from partners import access
from secmail.security.client import client_address, from_trusted_proxy

# Reachable before the second factor: the second-factor pages themselves, logging out, the
# language switch, static files and what needs no login at all.
_OPEN_PREFIXES = ("/account/second-factor/", "/i18n/", "/static/", "/email/", "/healthz")


def needs_second_factor(user: object) -> bool:
    """Staff always (unless the demo runs with DEBUG); organization admins unless relaxed."""
    if not settings.SECMAIL_SECOND_FACTOR or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:  # type: ignore[attr-defined]
        return True
    return settings.SECMAIL_SECOND_FACTOR_ORG_ADMINS and access.administers_any_organization(user)  # type: ignore[arg-type]


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            not path.startswith(_OPEN_PREFIXES)
            and path != reverse("logout")
            and not request.user.is_verified()  # type: ignore[union-attr]
            and needs_second_factor(request.user)
        ):
            target = reverse("second-factor")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class UntrustedForwardingMiddleware:
    """Drops X-Forwarded-* headers that did not come from a declared proxy.

    Django's SECURE_PROXY_SSL_HEADER believes X-Forwarded-Proto from anyone; a client that reached
    gunicorn directly could claim https. Only the proxies declared in SECMAIL_TRUSTED_PROXIES
    are heard; with none declared, nobody is (the socket peer is the client).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request):
            for key in [key for key in request.META if key.startswith("HTTP_X_FORWARDED_")]:
                del request.META[key]
        return self.get_response(request)


class AuditlogMiddleware(_AuditlogMiddleware):
    """django-auditlog's middleware, taking the client address the way everything else does.

    Its own reads the left-most X-Forwarded-For entry, which any client can write.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request) or None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None
