"""Pages of the second factor and the audit trail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def second_factor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("todo")
