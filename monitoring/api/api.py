"""The /api/v1/ endpoints (Django Ninja): thin over monitoring.api.selectors and feeds."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from ninja import NinjaAPI
from ninja.security import HttpBearer

from monitoring.api import feeds, schemas, selectors, services
from monitoring.dashboard import enforcement
from partners.access import get_organization_for_user
from secmail.security.throttle import over_limit, seconds_left


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


def _rate_check(token_id: int) -> None:
    """At most SECMAIL_API_RATE_PER_MINUTE requests per token per clock minute."""
    now = time.time()
    limit = settings.SECMAIL_API_RATE_PER_MINUTE
    if over_limit("api-token", str(token_id), limit=limit, window=60, now=now):
        raise RateLimited(retry_after=seconds_left(60, now))


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; the request then acts as the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = services.token_authenticate(token)
        if found is None:
            return None
        _rate_check(found.pk)
        request.user = found.user
        return found


api = NinjaAPI(
    title="secmail API",
    version="1",
    description=(
        "Read-only access to what a user sees in the secmail pages, and each organization's "
        "TLS policy table for its mail servers."
    ),
    auth=BearerToken(),
    urls_namespace="api",
    docs_url=None,
)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": "Too many requests."}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.get("/organizations", response=schemas.OrganizationPage, tags=["organizations"])
def organizations(request: HttpRequest, page: int = 1, per_page: int = 100) -> Any:
    """Your organizations and their partners (staff: every organization), by name."""
    return selectors.organization_page(viewer=request.user, page=page, per_page=per_page)


@api.get(
    "/organizations/{slug}",
    response={200: schemas.OrganizationDetail, 404: schemas.Error},
    tags=["organizations"],
)
def organization(request: HttpRequest, slug: str) -> Any:
    """One organization you may see, with its domains' levels."""
    return selectors.organization_detail(viewer=request.user, slug=slug)


@api.get(
    "/domains/{domain}",
    response={200: schemas.DomainResult, 404: schemas.Error},
    tags=["domains"],
)
def domain(request: HttpRequest, domain: str) -> Any:
    """The latest stored result of one domain in the probe's JSON shape, plus `since`."""
    return selectors.domain_detail(viewer=request.user, name=domain)


@api.get("/pairs", response=schemas.PairPage, tags=["pairs"])
def pairs(request: HttpRequest, page: int = 1, per_page: int = 100) -> Any:
    """Partnerships you may see and the level each can exchange mail at."""
    return selectors.pair_page(viewer=request.user, page=page, per_page=per_page)


@api.get("/changes", response=schemas.ChangePage, tags=["changes"])
def changes(
    request: HttpRequest,
    since: datetime | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Any:
    """Level and warning changes of your organizations' domains at or after `since`
    (ISO 8601; default: the last 24 hours), oldest first."""
    if since is None:
        since = timezone.now() - timedelta(days=1)
    elif timezone.is_naive(since):
        since = timezone.make_aware(since, timezone.utc)
    return selectors.change_page(viewer=request.user, since=since, page=page, per_page=per_page)


_TEXT = {
    200: {
        "description": "The table as text.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    304: {"description": "Not modified since the ETag given in If-None-Match."},
    404: {"description": "No such organization, or you are not a member."},
}


@api.get(
    "/organizations/{slug}/policy/{flavour}",
    tags=["policy feed"],
    openapi_extra={"responses": _TEXT},
)
def policy(
    request: HttpRequest,
    slug: str,
    flavour: feeds.Flavour,
    mode: enforcement.PostfixMode = enforcement.VERIFY,
) -> HttpResponse:
    """Your organization's TLS policy for its partners, for a scheduled fetch.

    Postfix `mode`: `verify` (default) checks the certificate against the MX name found in
    DNS at delivery, so it never goes stale; `secure` pins today's MX names with match=.
    """
    organization = get_organization_for_user(request.user, slug)
    feed = feeds.policy_feed(organization=organization, flavour=flavour, mode=mode)
    headers = {"ETag": feed.etag, "Last-Modified": http_date(feed.last_modified.timestamp())}
    wanted = request.headers.get("If-None-Match", "")
    if feed.etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(feed.text, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    response["Cache-Control"] = "private, no-cache"
    return response
