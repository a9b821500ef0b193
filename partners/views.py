"""Pages of the partner registry: the staff CSV import and export, an organization's contacts."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from partners import services
from partners.access import get_organization_for_user, staff_required
from partners.csvio import export_partners, import_partners
from partners.forms import ContactForm, ImportForm
from partners.models import Contact, Organization
from secmail.security import audit


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
            audit.record(
                request,
                "import",
                detail=f"{form.cleaned_data['file'].name}: {report.summary()}",
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
    count = export_partners(response)
    audit.record(request, "export", detail=f"registry: {count} organizations")
    return response


# -- contacts ----------------------------------------------------------------------------------

CONTACTS_TEMPLATE = "partners/contacts.html"


def _contact_list(organization: Organization) -> QuerySet[Contact]:
    return Contact.objects.filter(organization=organization).order_by("name", "email")


def _contacts_page(
    request: HttpRequest,
    organization: Organization,
    form: ContactForm,
    *,
    editing: Contact | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only the form when htmx asked (the list refreshes on its event)."""
    context: dict[str, object] = {"organization": organization, "form": form, "editing": editing}
    if request.htmx:
        return render(request, f"{CONTACTS_TEMPLATE}#contact-form", context, status=status)
    context["contacts"] = _contact_list(organization)
    return render(request, CONTACTS_TEMPLATE, context, status=status)


def _contact_saved(request: HttpRequest, organization: Organization) -> HttpResponse:
    if not request.htmx:
        return redirect("contacts", slug=organization.slug)
    # A fresh "add" form replaces the one just used; the list refreshes itself on the event.
    response = _contacts_page(request, organization, ContactForm())
    response["HX-Trigger"] = "contactsChanged"
    return response


def _contact_invalid(
    request: HttpRequest,
    organization: Organization,
    form: ContactForm,
    *,
    editing: Contact | None = None,
) -> HttpResponse:
    # htmx swaps only successful responses by default, so it gets 200; browsers get 400.
    status = 200 if request.htmx else 400
    return _contacts_page(request, organization, form, editing=editing, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def contacts(request: HttpRequest, slug: str) -> HttpResponse:
    """An organization's contacts, for its admins and staff; a POST adds one."""
    organization = get_organization_for_user(request.user, slug, admin=True)
    if request.method == "GET":
        if request.htmx:
            context = {"organization": organization, "contacts": _contact_list(organization)}
            return render(request, f"{CONTACTS_TEMPLATE}#contact-list", context)
        return _contacts_page(request, organization, ContactForm())
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_create(organization=organization, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _contact_saved(request, organization)
    return _contact_invalid(request, organization, form)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def contact_edit(request: HttpRequest, slug: str, contact_id: int) -> HttpResponse:
    """Edit one contact; the GET shows its form in place of the "add" form."""
    organization = get_organization_for_user(request.user, slug, admin=True)
    contact = get_object_or_404(Contact, organization=organization, pk=contact_id)
    if request.method == "GET":
        return _contacts_page(
            request, organization, ContactForm.for_contact(contact), editing=contact
        )
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_update(contact=contact, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _contact_saved(request, organization)
    return _contact_invalid(request, organization, form, editing=contact)


@require_POST
@login_required
@vary_on_headers("HX-Request")
def contact_delete(request: HttpRequest, slug: str, contact_id: int) -> HttpResponse:
    organization = get_organization_for_user(request.user, slug, admin=True)
    contact = get_object_or_404(Contact, organization=organization, pk=contact_id)
    services.contact_delete(contact=contact)
    return _contact_saved(request, organization)
