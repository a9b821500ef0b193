"""Translatable wording of the Received-header analyzer's verdicts (kept out of the parser)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from monitoring.headers.parser import Summary

VERDICT_MESSAGES: dict[str, Promise] = {
    "no-hops": _(
        "No Received headers were found. Paste the message's full headers: "
        "everything from the top down to the first blank line."
    ),
    "no-tls-stated": _(
        "No hop states that it used TLS. Either the message crossed every hop in plain text, "
        "or the servers did not record TLS in their Received headers."
    ),
    "all-tls": _("Every hop states that it used TLS."),
    "some-tls": _(
        "Some hops state that they used TLS; the others used plain SMTP or did not say. "
        "Hops inside one organization (local delivery, MAPI, HTTP) often do not say."
    ),
}


def verdict_message(summary: Summary) -> Promise:
    return VERDICT_MESSAGES[summary.verdict]
