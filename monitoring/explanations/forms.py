"""The explanation form (also used by staff for an accepted exception)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ExplanationForm(forms.Form):
    text = forms.CharField(
        label=_("Explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Why the level is below verified, and what is planned. Empty withdraws it."),
    )
    target_date = forms.DateField(
        label=_("Target date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
