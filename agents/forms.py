from django import forms
from django.utils.translation import gettext_lazy as _

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
