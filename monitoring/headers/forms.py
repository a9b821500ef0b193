"""The form of the received-header analyzer page."""

from __future__ import annotations

from typing import Any

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

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # An oversized paste is refused without being echoed back into the page.
        self.too_long = data is not None and len(data.get("headers", "")) > MAX_INPUT_CHARS
        if self.too_long:
            data = data.copy()
            data["headers"] = ""
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.too_long:
            self.errors.pop("headers", None)
            self.add_error(
                "headers",
                _("Paste at most 256 KiB: the headers only, without the message body."),
            )
        return cleaned
