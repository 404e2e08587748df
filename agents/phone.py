"""Phone numbers in E.164, the one form numbers are compared in."""

import phonenumbers
from phonenumbers import PhoneNumberType

from telephony.phone import E164, is_e164, to_e164

# Written numbers become E.164 in telephony (ivr's flow numbers use the same rules).
__all__ = ["E164", "is_e164", "number_types", "to_e164"]


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
