"""Forms of the partner registry pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from partners.csvio import MAX_IMPORT_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: organization,kind,province,domains,contacts,partners (UTF-8)."),
    )
    dry_run = forms.BooleanField(
        label=_("Preview only (check the file, write nothing)"), required=False, initial=True
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mib)d MiB."),
                params={"mib": MAX_IMPORT_BYTES // (1024 * 1024)},
            )
        return upload
