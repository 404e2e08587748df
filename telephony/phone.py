"""Phone numbers as people write them, turned into E.164 (the one form numbers are stored and
compared in). Shared by ivr (flow numbers) and agents (customers, the softphone)."""

import re
import unicodedata

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Spaces, dashes (ASCII, Japanese long vowel mark and the Unicode dashes), dots and brackets.
_SEPARATORS = re.compile(r"[\s\-().\u3000\u2010-\u2015\u30fc]")


def default_region() -> str:
    """The country of numbers written the national way (090-…, 050-…): ``PHONE_REGION``."""
    return getattr(settings, "PHONE_REGION", "JP")


def to_e164(raw: str, *, region: str | None = None) -> str | None:
    """The E.164 form of a written phone number, or None when it is not one.

    Accepts +E.164, the international prefixes 00 and (in Japan) 010, and national numbers of
    ``region`` (default ``PHONE_REGION``) such as ``050-1234-5678``, with spaces, dashes, dots
    and brackets in between, in full-width characters too. The number must have a possible
    length for its country (``phonenumbers``); whether the range is assigned is not checked.
    """
    # NFKC turns full-width digits, plus and hyphen (common in Japanese input) into ASCII.
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if not text or not re.fullmatch(r"\+?[0-9]+", text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if E164.match(e164) else None


def is_e164(value: str) -> bool:
    return bool(E164.match(value or ""))


class PhoneNumberFormField(forms.CharField):
    """A form field that takes a number written any usual way and cleans it to E.164."""

    default_error_messages = {
        "invalid": _(
            "Not a phone number: write it like 050-1234-5678 (a number in Japan) or "
            "+815012345678 (+, country code, number)."
        ),
    }

    def __init__(self, *, max_length=40, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        e164 = to_e164(value)
        if e164 is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return e164
