"""Pages of the partner registry: the staff CSV import and export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from partners.csvio import export_partners, import_partners
from partners.forms import ImportForm

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Refuse non-staff with 403; put @login_required above it so anonymous users log in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Only industry staff may do this.")
        return view(request, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
@login_required
@staff_required
@vary_on_headers("HX-Request")
def registry_import(request: HttpRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            report = import_partners(
                form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"]
            )
    else:
        form = ImportForm()
    template = "partners/import.html"
    if request.htmx:
        template += "#import-result"
    # 200 even when the file has errors: htmx swaps only successful responses by default.
    return render(request, template, {"form": form, "report": report})


@require_safe
@login_required
@staff_required
def registry_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="partners-{date.today()}.csv"'
    export_partners(response)
    return response
