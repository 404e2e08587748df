from datetime import datetime

from django import template
from django.utils.formats import date_format

from ..selectors import all_queues as _all_queues

register = template.Library()

DASH = "–"


@register.filter
def percent(value):
    """0.7759 -> 77.6 %; a ratio with nothing to divide by shows a dash."""
    return DASH if value is None else f"{value * 100:.1f} %"


@register.filter
def seconds(value):
    return DASH if value is None else f"{value:.1f}"


@register.filter
def clock(total_seconds) -> str:
    """125 -> 2:05, as the wallboard shows waits."""
    if total_seconds is None:
        return DASH
    minutes, secs = divmod(int(total_seconds), 60)
    return f"{minutes}:{secs:02d}"


@register.filter
def duration(total_seconds) -> str:
    """3725 -> 1:02:05."""
    if total_seconds is None:
        return DASH
    minutes, secs = divmod(int(total_seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@register.filter
def period_label(iso: str, interval: str) -> str:
    start = datetime.fromisoformat(iso)
    if interval == "hour":
        return date_format(start, "Y-m-d H:00")
    if interval == "month":
        return date_format(start, "Y-m")
    return date_format(start, "Y-m-d")


@register.filter
def queue_name(slug: str, names: dict) -> str:
    """A queue's name for its slug (the slug when the queue is gone)."""
    return names.get(slug) or slug


@register.simple_tag
def all_queues():
    return _all_queues()
