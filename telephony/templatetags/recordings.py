from django import template

from telephony.recordings import https_url

register = template.Library()


@register.filter(name="https_url")
def https_url_filter(value) -> str:
    """An https URL as it is; anything else (``javascript:``, ``data:``…) becomes empty."""
    return https_url(value)
