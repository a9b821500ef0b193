"""Forms of the dashboard: the matrix filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.dashboard.selectors import DashboardMatrixFilters
from monitoring.levels import NOT_CHECKED, LevelChoice
from partners.models import Kind, Province


class MatrixFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Kind.choices]
    )
    province = forms.ChoiceField(
        label=_("Province"), required=False, choices=[("", _("Any province")), *Province.choices]
    )
    level = forms.ChoiceField(
        label=_("Pair level"),
        required=False,
        choices=[("", _("Any level")), *LevelChoice.choices, (NOT_CHECKED, _("Not checked"))],
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> DashboardMatrixFilters:
        """The filters asked for; invalid input counts as no filter."""
        data = self.cleaned_data if self.is_valid() else {}
        return DashboardMatrixFilters(
            kind=data.get("kind", ""),
            province=data.get("province", ""),
            level=data.get("level", ""),
            search=data.get("q", ""),
        )

    def page_number(self) -> int:
        return (self.cleaned_data.get("page") if self.is_valid() else None) or 1
