"""Phone numbers in E.164, the one form numbers are compared in."""

import re
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberType

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEPARATORS = re.compile(r"[\s\-().\u3000\u2010-\u2015\u30fc]")
# Japanese numbers are often written the domestic way (090-1234-5678): trunk prefix 0.
DEFAULT_COUNTRY_CODE = "81"


def to_e164(raw: str, *, country_code: str = DEFAULT_COUNTRY_CODE) -> str | None:
    """The E.164 form of a written phone number, or None when it is not one.

    Accepts +E.164, international 00/010 prefixes and domestic numbers with a trunk 0
    (taken as ``country_code``), with spaces, dashes, dots and brackets in between.
    """
    # NFKC turns full-width digits, plus and hyphen (common in Japanese input) into ASCII.
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if text.startswith("+"):
        candidate = text
    elif text.startswith("010"):  # Japan's international call prefix
        candidate = "+" + text[3:]
    elif text.startswith("00"):
        candidate = "+" + text[2:]
    elif text.startswith("0"):
        candidate = f"+{country_code}{text[1:]}"
    else:
        return None
    return candidate if E164.match(candidate) else None


def is_e164(value: str) -> bool:
    return bool(E164.match(value or ""))


# libphonenumber's types by the names DialPrefix.number_types stores. FIXED_LINE_OR_MOBILE (a
# country where the two share ranges) is either; UNKNOWN is nothing.
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: {"fixed_line"},
    PhoneNumberType.MOBILE: {"mobile"},
    PhoneNumberType.FIXED_LINE_OR_MOBILE: {"fixed_line", "mobile"},
    PhoneNumberType.TOLL_FREE: {"toll_free"},
    PhoneNumberType.VOIP: {"voip"},
    PhoneNumberType.PREMIUM_RATE: {"premium_rate"},
    PhoneNumberType.SHARED_COST: {"shared_cost"},
    PhoneNumberType.UAN: {"uan"},
    PhoneNumberType.PERSONAL_NUMBER: {"personal_number"},
    PhoneNumberType.PAGER: {"pager"},
    PhoneNumberType.VOICEMAIL: {"voicemail"},
}


def number_types(e164: str) -> set[str] | None:
    """The kinds a number is, in its country's numbering plan; None when the plan has no such
    number (+81 then 0, a range never assigned, a wrong length)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return _TYPE_NAMES.get(phonenumbers.number_type(number), set())
