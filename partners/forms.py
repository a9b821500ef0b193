"""Forms of the partner registry pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from partners.csvio import MAX_IMPORT_BYTES
from partners.models import Contact, validate_contact_name


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


class ContactForm(forms.Form):
    """A contact's fields; the view hands them to contact_create() or contact_update()."""

    name = forms.CharField(
        label=_("Name"), max_length=200, validators=[validate_contact_name], strip=True
    )
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Contact.Role.choices, initial=Contact.Role.IT)
    digest = forms.ChoiceField(
        label=_("Digest"), choices=Contact.Digest.choices, initial=Contact.Digest.WEEKLY
    )
    digest_always = forms.BooleanField(
        label=_("Send the digest even when nothing changed"), required=False
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=Contact.Language.choices, initial=Contact.Language.EN
    )

    @classmethod
    def for_contact(cls, contact: Contact) -> ContactForm:
        fields = ("name", "email", "role", "digest", "digest_always", "language")
        return cls(initial={field: getattr(contact, field) for field in fields})
