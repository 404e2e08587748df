from django import forms
from django.utils.translation import gettext_lazy as _

from telephony.phone import PhoneNumberFormField

from .models import NOTE_MAX_CHARS, AgentStatus, Customer, Disposition
from .services import MANUAL_STATUSES


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        choices=[
            (value, label) for value, label in AgentStatus.choices if value in MANUAL_STATUSES
        ],
    )


class CustomerForm(forms.Form):
    phone_number = forms.CharField(label=_("phone number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=200, required=False)
    company = forms.CharField(label=_("company"), max_length=200, required=False)
    email = forms.EmailField(label=_("email"), required=False)


class BootstrapFields:
    """Pages' forms: Bootstrap classes on the widgets, the field marked when it has an error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                widget.attrs["aria-describedby"] = f"id_{name}-errors"


class CustomerPageForm(BootstrapFields, forms.Form):
    """A new customer from the customers page: the number as people write it, errors at the
    field."""

    phone_number = PhoneNumberFormField(
        label=_("phone number"),
        help_text=_("As you would dial it (090-1234-5678) or with + and the country code."),
    )
    name = forms.CharField(label=_("name"), max_length=200, required=False)
    company = forms.CharField(label=_("company"), max_length=200, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class NotePageForm(BootstrapFields, forms.Form):
    """A contact note written on a customer's page, outside a call."""

    disposition = forms.ModelChoiceField(
        label=_("disposition"), required=False, queryset=Disposition.objects.filter(is_active=True)
    )
    text = forms.CharField(
        label=_("note"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            not self.errors
            and not cleaned.get("disposition")
            and not cleaned.get("text", "").strip()
        ):
            self.add_error("text", _("Choose a disposition or write a note."))
        return cleaned


class ContactNoteForm(forms.Form):
    disposition = forms.ModelChoiceField(
        label=_("disposition"), required=False, queryset=Disposition.objects.filter(is_active=True)
    )
    text = forms.CharField(
        label=_("note"), required=False, max_length=NOTE_MAX_CHARS, widget=forms.Textarea
    )
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(), required=False, widget=forms.HiddenInput
    )
    phone_number = forms.CharField(max_length=128, required=False, widget=forms.HiddenInput)
    call_sid = forms.CharField(max_length=34, required=False, widget=forms.HiddenInput)
    queue = forms.SlugField(max_length=64, required=False, widget=forms.HiddenInput)


class CustomerImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, first row: phone_number,name,company,email,notes"),
    )
