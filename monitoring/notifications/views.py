"""The unsubscribe page of digests and alerts: one-click (RFC 8058) and re-subscribe."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from monitoring.notifications.outbox import contact_frequency_set, contact_from_token
from partners.models import Contact

SUBSCRIBE_CHOICES = (Contact.Digest.WEEKLY, Contact.Digest.DAILY)


# No CSRF token: mail providers POST the one-click request from their servers (RFC 8058), and
# the signed token in the URL is what proves the request comes from the recipient's mail.
# A GET only shows the page, since link scanners fetch every URL in a message.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = contact_from_token(token)
    if contact is None:
        raise Http404("unknown or altered link")
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        frequency = request.POST.get("digest", Contact.Digest.OFF)
        if one_click or frequency == Contact.Digest.OFF:
            contact_frequency_set(contact=contact, frequency=Contact.Digest.OFF)
        elif frequency in SUBSCRIBE_CHOICES:
            contact_frequency_set(contact=contact, frequency=frequency)
        else:
            return HttpResponse(status=400)
        if one_click:
            return HttpResponse("unsubscribed\n", content_type="text/plain")
        return redirect("unsubscribe", token=token)
    with translation.override(contact.language):
        return render(
            request,
            "emails/unsubscribe.html",
            {"contact": contact, "choices": SUBSCRIBE_CHOICES, "Digest": Contact.Digest},
        )
