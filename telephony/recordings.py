"""Recording URLs come from webhooks, so from anyone who can forge one: only an https URL is
stored, and only an https URL is ever rendered as a link or an audio source."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

_https_only = URLValidator(schemes=["https"])


def https_url(value) -> str:
    """The value if it is an https URL, else the empty string."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        _https_only(value)
    except ValidationError:
        return ""
    return value
