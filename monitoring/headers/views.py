"""The received-header analyzer page: paste a message's headers, see each hop's TLS."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from monitoring.headers import parser
from monitoring.headers.forms import HeadersForm
from monitoring.headers.wording import verdict_message
from secmail.security.throttle import over_limit, too_many


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def headers(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and over_limit(
        "headers", str(request.user.pk), limit=settings.SECMAIL_HEADERS_PER_MINUTE, window=60
    ):
        # Each analysis costs CPU in a web worker: a few users pasting in a loop would hold them.
        return too_many()
    form = HeadersForm(request.POST or None)
    hops = summary = verdict = None
    if request.method == "POST" and form.is_valid():
        hops = parser.parse_headers(form.cleaned_data["headers"])
        summary = parser.summarize(hops)
        verdict = verdict_message(summary)
    context = {"form": form, "hops": hops, "summary": summary, "verdict": verdict}
    template = "headers/headers.html"
    if request.htmx:
        template += "#hops"
    return render(request, template, context)
