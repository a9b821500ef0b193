"""The form of the received-header analyzer page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.headers.parser import MAX_INPUT_CHARS


class HeadersForm(forms.Form):
    headers = forms.CharField(
        label=_("Message headers"),
        max_length=MAX_INPUT_CHARS,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=_("Paste everything from the top of the message down to the first blank line."),
    )
